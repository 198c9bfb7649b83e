// <list-more more loading error bind:more>: the foot of a paged list (utils/paged-list.js): the
// next page loading, its error with a retry, "load more" (also reached by scrolling to the
// bottom), or the end-of-list line. Both the tap and the retry trigger `more`.
Component({
  properties: {
    more: {type: Boolean, value: false},
    loading: {type: Boolean, value: false},
    error: {type: String, value: ''},
  },
  methods: {
    onMore() {
      this.triggerEvent('more')
    },
  },
})

// <state-view loading error empty>: one look for loading, error (with a retry button) and empty.
Component({
  properties: {
    loading: {type: Boolean, value: false},
    error: {type: String, value: ''},
    empty: {type: Boolean, value: false},
    emptyText: {type: String, value: '暂无内容'},
    retryText: {type: String, value: '重试'},
  },
  methods: {
    onRetry() {
      this.triggerEvent('retry')
    },
  },
})

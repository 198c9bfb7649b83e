// Paging a list page by `next_cursor` (every list endpoint: newest first, `{items, next_cursor}`,
// an empty `next_cursor` is the last page). A list page takes the behavior `pagedList({path,
// query})` (below), which loads the first page (onLoad, pull-down refresh, retry), the next ones at
// the bottom and keeps the paging state; the page says how it shows a page of items
// (`viewItems`, or `showPage` for more) and, when its first page is more than one GET, how it
// fetches it (`firstPage`).
//   WXML, under the list (components/list-more: the next page loading, its error with a retry,
//   "load more", or the end-of-list line):
//     <list-more wx:if="{{!loading && !error && (items.length || cursor)}}" id="list-more"
//       more="{{!!cursor}}" loading="{{loadingMore}}" error="{{moreError}}" bind:more="onReachBottom" />
'use strict'
const {getClient} = require('../api/client')
const {priv} = require('./priv')

/** A page's paging state (the next pages), part of the behavior's `data`. */
const PAGED_DATA = {cursor: '', loadingMore: false, moreError: ''}

/**
 * The first page is being loaded again (load, pull-down refresh, retry): a next page still on its
 * way belongs to the old list and is dropped when it arrives.
 */
function restartPaging(comp) {
  const p = priv(comp)
  p.pagingRound = (p.pagingRound || 0) + 1
  comp.setData({loadingMore: false, moreError: ''})
}

/**
 * Asks for the page after `data.cursor` (nothing when there is none, a page is on its way or the
 * first page is loading) and hands its items to `add`; then keeps the new `next_cursor`. A failure
 * is shown under the list (`moreError`) with a retry, the items loaded so far stay.
 * @param {any} comp the page
 * @param {string} path
 * @param {Record<string, any>} query the first page's query (limit, filters); the cursor is added
 * @param {(items: any[]) => void} add appends the items as the page shows them
 * @returns {Promise<void>}
 */
function loadNextPage(comp, path, query, add) {
  const d = comp.data
  if (!d.cursor || d.loadingMore || d.loading) return Promise.resolve()
  const p = priv(comp)
  const round = p.pagingRound
  comp.setData({loadingMore: true, moreError: ''})
  return getClient().get(path, Object.assign({}, query, {cursor: d.cursor})).then(r => {
    if (p.pagingRound !== round) return
    add(r.items || [])
    comp.setData({loadingMore: false, cursor: r.next_cursor || ''})
  }, e => {
    if (p.pagingRound !== round) return
    comp.setData({loadingMore: false, moreError: e.message})
  })
}

/**
 * `list` followed by the items of `more` it does not hold yet (by `keyOf`, the id by default): an
 * item shown at the top (opened from a message, or listed twice) is not shown again.
 * @template T
 * @param {T[]} list
 * @param {T[]} more
 * @param {(item: T) => any} [keyOf]
 * @returns {T[]}
 */
function appendNew(list, more, keyOf) {
  const key = keyOf || (/** @param {any} i */ i => i.id)
  const seen = {}
  list.forEach(i => { seen[key(i)] = true })
  return list.concat(more.filter(i => {
    const k = key(i)
    if (seen[k]) return false
    seen[k] = true
    return true
  }))
}

/**
 * The list part of a list page, shared by every page that shows one server list by `next_cursor`.
 * It brings the data `items` (as the page shows them), `loading`, `error` (the first page),
 * `cursor`, `loadingMore`, `moreError` (the next ones) and the methods below. WeChat merges a behavior's methods under the page's own, so a
 * page overrides any of them by defining it: the hooks `firstPage`, `viewItems`, `showPage` and
 * `loadError` are meant for that, and so is `onLoad` when the page reads its options first (it then calls
 * `this.load()`).
 * @param {{path: string, query: Record<string, any>}} list the list endpoint and its first
 *   page's query (limit, filters); the next pages ask for the same with the cursor added
 */
function pagedList(list) {
  return Behavior({
    data: Object.assign({items: /** @type {any[]} */ ([]), loading: false, error: ''}, PAGED_DATA),
    methods: {
      onLoad() {
        return this.load()
      },
      onPullDownRefresh() {
        return this.load().then(() => wx.stopPullDownRefresh())
      },
      /** The retry of the first page's error (components/state-view's bind:retry). */
      onRetry() {
        return this.load()
      },
      /**
       * The first page, anew: a next page still on its way is dropped (restartPaging), the items
       * shown stay until the new ones arrive, a failure is shown in place of the list.
       * @returns {Promise<void>}
       */
      load() {
        restartPaging(this)
        // Two first-page loads can overlap (a pull-down during the first load): only the latest
        // one's answer is shown, or an older list could land last over a newer one.
        const round = priv(this).pagingRound
        this.setData({loading: true, error: ''})
        return this.firstPage().then(r => {
          if (priv(this).pagingRound !== round) return
          this.showPage(r.items || [], {loading: false, cursor: r.next_cursor || ''})
        }, e => {
          if (priv(this).pagingRound !== round) return
          this.setData({loading: false, error: this.loadError(e)})
        })
      },
      onReachBottom() {
        return loadNextPage(this, list.path, list.query, more => this.showPage(more, null))
      },
      /**
       * Hook: the first page, `{items, next_cursor}`. A page opened from a message adds the item
       * of the message here when the list does not hold it.
       * @returns {Promise<{items?: any[], next_cursor?: string}>}
       */
      firstPage() {
        return getClient().get(list.path, list.query)
      },
      /**
       * Hook: shows a page of the server's items. `first` is, for the first page, the data that
       * ends its loading (`{loading: false, cursor}`), to be set in the same setData as the new
       * items so that the page never shows "empty" or a spinner beside the list it has; for a
       * next page it is null and the items go under the ones shown, none twice (appendNew).
       * By default the page's `viewItems` makes them its `items`.
       * @param {any[]} list
       * @param {{loading: boolean, cursor: string} | null} first
       */
      showPage(list, first) {
        const items = this.viewItems(list)
        this.setData(Object.assign({items: first ? items : appendNew(this.data.items, items)}, first))
      },
      /**
       * Hook: the items a page of the server's list shows (mapped for the WXML, some left out);
       * by default the server's items as they are.
       * @param {any[]} list
       * @returns {any[]}
       */
      viewItems(list) {
        return list
      },
      /**
       * Hook: the text shown when the first page fails.
       * @param {{message: string}} e
       * @returns {string}
       */
      loadError(e) {
        return e.message
      },
    },
  })
}

module.exports = {pagedList, appendNew, loadNextPage}

// Paging a list page by `next_cursor` (every list endpoint: newest first, `{items, next_cursor}`,
// an empty `next_cursor` is the last page). One way for every page:
//   data:           Object.assign({...}, PAGED_DATA)   cursor, loadingMore, moreError
//   load():         restartPaging(this) before asking for the first page, then
//                   setData({cursor: r.next_cursor}) with its items
//   onReachBottom() { return loadNextPage(this, path, query, items => append them) }
//   WXML, under the list (components/list-more: the next page loading, its error with a retry,
//   "load more", or the end-of-list line):
//     <list-more wx:if="{{!loading && !error && (items.length || cursor)}}" id="list-more"
//       more="{{!!cursor}}" loading="{{loadingMore}}" error="{{moreError}}" bind:more="onReachBottom" />
'use strict'
const {getClient} = require('../api/client')
const {priv} = require('./priv')

/** A page's paging state, merged into its `data`. */
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

module.exports = {PAGED_DATA, restartPaging, loadNextPage, appendNew}

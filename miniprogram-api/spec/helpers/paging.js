// A list endpoint that pages by cursor, for the page tests of utils/paged-list.js and
// components/list-more: `pages[0]` answers the request without a cursor, `pages[i]` the one with
// cursor 'cur-i'; each page's next_cursor names the next one, the last one's is ''.
'use strict'
const F = require('./fixtures')

/**
 * @param {any[][]} pages the items of each page
 * @returns {{answer: (req: any) => any, pages: any[][], cursors: string[], failNext: number}}
 *   answer: the handler's answer for a request to the list; cursors: the cursor of each request
 *   ('' for the first page); failNext: how many of the next requests with a cursor fail (timeout)
 */
function pagedList(pages) {
  const s = {
    pages,
    cursors: [],
    failNext: 0,
    answer(req) {
      const cursor = cursorOf(req)
      s.cursors.push(cursor)
      if (cursor && s.failNext > 0) {
        s.failNext--
        return {fail: 'timeout'}
      }
      const i = cursor ? Number(cursor.replace('cur-', '')) : 0
      return {statusCode: 200, data: F.page(pages[i], i + 1 < pages.length ? 'cur-' + (i + 1) : '')}
    },
  }
  return s
}

/** The `cursor` query parameter of a request ('' when none). */
function cursorOf(req) {
  return new URL(req.url).searchParams.get('cursor') || ''
}

/** Taps the retry button of a failed page under the list (<list-more id="list-more">). */
function retryMore(page) {
  const more = page.querySelector('#list-more')
  const button = more && more.querySelector('.list-more-retry')
  if (!button) throw new Error('no retry button under the list')
  button.dispatchEvent('click')
}

module.exports = {pagedList, cursorOf, retryMore}

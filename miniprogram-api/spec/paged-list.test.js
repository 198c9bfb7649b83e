'use strict'
// utils/paged-list.js's behavior `pagedList`: first on a bare component that takes nothing but the
// behavior (what the behavior itself does), then on each of the six list pages that take it (what
// each page relies on: that it is wired in and its own hooks keep it working).
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {flush, pathOf, deferred} = require('./helpers/fake-wx')
const {setup, recordView, assertContract} = require('./helpers/app')
const F = require('./helpers/fixtures')
const {pagedList: pagedEndpoint, cursorOf} = require('./helpers/paging')
const {pagedList} = require('../miniprogram/utils/paged-list')
const {getClient} = require('../miniprogram/api/client')

const PATH = '/api/v1/bulletins'

/**
 * A list endpoint (helpers/paging) with two switches: `hold` keeps the next pages' answers until
 * it is resolved, `failFirst` makes the first page fail (timeout).
 */
function endpoint(pages) {
  const list = pagedEndpoint(pages)
  return Object.assign(list, {
    hold: null,
    failFirst: false,
    handle(req) {
      const cursor = cursorOf(req)
      if (!cursor && list.failFirst) return {fail: 'timeout'}
      if (cursor && list.hold) return list.hold.promise.then(() => list.answer(req))
      return list.answer(req)
    },
  })
}

/** A component with nothing but the behavior (and `methods`, which win over the behavior's). */
function bare(methods) {
  const id = sim.simulate.load({
    template: '<view><view wx:for="{{items}}" wx:key="id" class="item">{{item.id}}</view></view>',
    behaviors: [pagedList({path: PATH, query: {limit: 20}})],
    methods: methods || {},
  })
  const comp = sim.simulate.render(id)
  comp.attach(document.createElement('div'))
  return comp
}

const ids = comp => comp.data.items.map(i => i.id)

describe('the list behavior (utils/paged-list.js pagedList)', () => {
  let env
  let list
  beforeEach(() => {
    env = setup()
    list = endpoint([[F.bulletin({id: 8}), F.bulletin({id: 7})], [F.bulletin({id: 7}), F.bulletin({id: 6})], [F.bulletin({id: 5})]])
    env.fake.handler = req => (pathOf(req) === PATH ? list.handle(req) : F.error(404, 'not_found', '内容不存在'))
  })
  afterEach(() => assertContract(env))

  it('loads the first page with its query, goes on by next_cursor with the same query, shows no item twice, asks once for a page at a time and nothing after the last', async () => {
    const comp = bare()
    assert.deepEqual([comp.data.loading, comp.data.error, comp.data.cursor, comp.data.loadingMore, comp.data.moreError], [false, '', '', false, ''])
    await comp.instance.onLoad()
    assert.deepEqual(ids(comp), [8, 7])
    assert.equal(comp.data.cursor, 'cur-1')
    assert.equal(comp.data.loading, false)
    await Promise.all([comp.instance.onReachBottom(), comp.instance.onReachBottom()])
    assert.deepEqual(list.cursors, ['', 'cur-1'], 'one request for the next page')
    const second = env.fake.requests.filter(r => pathOf(r) === PATH)[1]
    assert.equal(new URL(second.url).searchParams.get('limit'), '20')
    assert.deepEqual(ids(comp), [8, 7, 6], 'the item of both pages once')
    await comp.instance.onReachBottom()
    assert.deepEqual(ids(comp), [8, 7, 6, 5])
    assert.equal(comp.data.cursor, '')
    await comp.instance.onReachBottom()
    assert.deepEqual(list.cursors, ['', 'cur-1', 'cur-2'], 'nothing asked after the last page')
  })

  it('of two first-page loads that overlap, the later one is shown even when the earlier answers last', async () => {
    const held = deferred()
    let calls = 0
    const comp = bare({
      firstPage() {
        calls++
        // the first load's answer is held and comes back after the second's
        if (calls === 1) return held.promise.then(() => ({items: [F.bulletin({id: 1})], next_cursor: 'old'}))
        return Promise.resolve({items: [F.bulletin({id: 9})], next_cursor: ''})
      },
    })
    const first = comp.instance.load()
    await comp.instance.load()
    assert.deepEqual(ids(comp), [9])
    held.resolve()
    await first
    await flush(2)
    assert.deepEqual(ids(comp), [9], 'the older answer did not replace the newer list')
    assert.equal(comp.data.cursor, '')
    assert.equal(comp.data.loading, false)
  })

  it('a refresh while a next page is on its way drops that page when it arrives', async () => {
    const comp = bare()
    await comp.instance.onLoad()
    list.hold = deferred()
    const more = comp.instance.onReachBottom()
    await flush(2)
    assert.equal(comp.data.loadingMore, true)
    let stopped = 0
    env.fake.stopPullDownRefresh = () => { stopped++ }
    await comp.instance.onPullDownRefresh()
    assert.equal(stopped, 1, 'the pull-down spinner stops once the first page is in')
    assert.equal(comp.data.loadingMore, false, 'the old next page no longer shows as loading')
    list.hold.resolve()
    await more
    await flush(3)
    assert.deepEqual(ids(comp), [8, 7], 'the stale page is not appended to the new list')
    assert.equal(comp.data.cursor, 'cur-1', 'the new first page\'s cursor, not the stale page\'s')
    assert.equal(comp.data.loadingMore, false)
    assert.equal(comp.data.moreError, '')
  })

  it('a failed next page shows moreError and keeps the items and the cursor; asking again gets that page', async () => {
    const comp = bare()
    await comp.instance.onLoad()
    list.failNext = 1
    await comp.instance.onReachBottom()
    assert.match(comp.data.moreError, /网络不给力/)
    assert.equal(comp.data.loadingMore, false)
    assert.deepEqual(ids(comp), [8, 7], 'the items loaded so far stay')
    assert.equal(comp.data.cursor, 'cur-1')
    assert.equal(comp.data.error, '', 'the list itself is not in error')
    await comp.instance.onReachBottom()
    assert.deepEqual(list.cursors, ['', 'cur-1', 'cur-1'])
    assert.deepEqual(ids(comp), [8, 7, 6])
    assert.equal(comp.data.moreError, '')
  })

  it('a failed first page shows its error; the retry loads it again and clears the error', async () => {
    const comp = bare()
    list.failFirst = true
    await comp.instance.onLoad()
    assert.match(comp.data.error, /网络不给力/)
    assert.equal(comp.data.loading, false)
    assert.deepEqual(ids(comp), [])
    list.failFirst = false
    await comp.instance.onRetry()
    assert.equal(comp.data.error, '')
    assert.deepEqual(ids(comp), [8, 7])
    assert.equal(comp.data.cursor, 'cur-1')
  })

  it('a reload clears a next page\'s error and starts again from the first page', async () => {
    const comp = bare()
    await comp.instance.onLoad()
    await comp.instance.onReachBottom()
    list.failNext = 1
    await comp.instance.onReachBottom()
    assert.match(comp.data.moreError, /网络不给力/)
    await comp.instance.onRetry()
    assert.equal(comp.data.moreError, '')
    assert.deepEqual(ids(comp), [8, 7])
    assert.equal(comp.data.cursor, 'cur-1')
    assert.deepEqual(list.cursors, ['', 'cur-1', 'cur-2', ''])
  })

  it('the page\'s own methods win: firstPage, viewItems, showPage, loadError and a handler of the same name as the behavior\'s (records\' onRetry)', async () => {
    const seen = []
    const comp = bare({
      firstPage() {
        seen.push('firstPage')
        return getClient().get(PATH, {limit: 20}).then(r => ({items: r.items.concat({id: 99}), next_cursor: r.next_cursor}))
      },
      viewItems(l) {
        return l.map(b => ({id: b.id, shown: true}))
      },
      loadError(e) {
        return e.message + '(本页)'
      },
      onRetry() {
        seen.push('own onRetry')
      },
    })
    await comp.instance.onLoad()
    assert.deepEqual(ids(comp), [8, 7, 99], 'the page\'s firstPage')
    assert.ok(comp.data.items.every(i => i.shown), 'the page\'s viewItems')
    await comp.instance.onRetry()
    assert.deepEqual(seen, ['firstPage', 'own onRetry'], 'the page\'s own onRetry, not the behavior\'s reload')
    const failing = bare({
      firstPage() {
        return Promise.reject(new Error('坏了'))
      },
      loadError(e) {
        return e.message + '(本页)'
      },
    })
    await failing.instance.onLoad()
    assert.equal(failing.data.error, '坏了(本页)')
  })
})

/**
 * The six list pages. `item(id)` is an item of the page's list as the server sends it; `other`
 * answers the page's other requests; `retry` is the first page's retry (records' onRetry retries
 * a record on the phone).
 */
const PAGES = [
  {page: 'bulletins', path: '/api/v1/bulletins', item: id => F.bulletin({id})},
  {page: 'meetings', path: '/api/v1/meetings', item: id => F.meeting({id}), options: {}},
  {page: 'records', path: '/api/v1/records', item: id => recordView({id}), retry: 'onRetryLoad'},
  {page: 'staff-sentiments', path: '/api/v1/sentiments', item: id => recordView({kind: 'sentiment', id})},
  {page: 'staff-tips', path: '/api/v1/tips', options: {},
    item: id => recordView({kind: 'tip', id, status: 'acknowledged', status_name: '已签收'}),
    // every unacknowledged tip comes first, in a list of its own that does not page
    other: req => (new URL(req.url).searchParams.getAll('status').join() === 'submitted' ? {statusCode: 200, data: F.page([])} : null)},
  {page: 'tasks', path: '/api/v1/tasks', item: id => F.task({id})},
]

describe('every list page takes the list behavior', () => {
  let env
  beforeEach(() => {
    env = setup({user: {id: 3, role: 'county_staff', display_name: '李干事', region_code: '131028000000'}})
  })
  afterEach(() => assertContract(env))

  for (const p of PAGES) {
    it(p.page + ': a next page on its way when the list is reloaded is dropped; a failed next page keeps the items and shows its error; the retry reloads the first page', async () => {
      const list = endpoint([[p.item(30), p.item(29)], [p.item(28)]])
      env.fake.handler = req => {
        if (pathOf(req) !== p.path) return pathOf(req) === '/api/v1/me' ? {statusCode: 200, data: F.me()} : F.error(404, 'not_found', '内容不存在')
        return (p.other && p.other(req)) || list.handle(req)
      }
      const comp = sim.render('pages/' + p.page + '/index')
      await comp.instance.onLoad(p.options)
      await flush(3)
      const sorted = () => ids(comp).slice().sort((a, b) => b - a)
      assert.deepEqual(sorted(), [30, 29])
      assert.equal(comp.data.cursor, 'cur-1')

      list.hold = deferred()
      const more = comp.instance.onReachBottom()
      await flush(2)
      assert.equal(comp.data.loadingMore, true)
      await comp.instance.onPullDownRefresh()
      list.hold.resolve()
      await more
      await flush(3)
      assert.deepEqual(sorted(), [30, 29], 'the stale page dropped')
      assert.equal(comp.data.cursor, 'cur-1')
      list.hold = null

      list.failNext = 1
      await comp.instance.onReachBottom()
      assert.match(comp.data.moreError, /网络不给力/)
      assert.deepEqual(sorted(), [30, 29], 'the items stay')
      await comp.instance.onReachBottom()
      assert.deepEqual(sorted(), [30, 29, 28])
      assert.equal(comp.data.moreError, '')

      list.failFirst = true
      await comp.instance[p.retry || 'onRetry']()
      assert.match(comp.data.error, /网络不给力/)
      list.failFirst = false
      const before = list.cursors.length
      await comp.instance[p.retry || 'onRetry']()
      await flush(3)
      assert.equal(comp.data.error, '')
      assert.deepEqual(sorted(), [30, 29], 'the retry shows the first page again')
      assert.equal(list.cursors[before], '', 'the retry asks for the first page')
      comp.detach()
    })
  }
})

'use strict'
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, recordView, assertContract} = require('./helpers/app')
const config = require('../miniprogram/config')
const F = require('./helpers/fixtures')
const {pagedList, cursorOf, retryMore} = require('./helpers/paging')

/** The statuses a request asks for (the parameter repeated). */
function statusesOf(req) {
  return new URL(req.url).searchParams.getAll('status')
}

const OPEN = ['submitted', 'acknowledged', 'handling', 'escalated']

describe('county staff tip inbox', () => {
  let env
  let tips
  let serverDuty
  beforeEach(() => {
    serverDuty = false
    env = setup({user: {id: 1, role: 'county_staff', display_name: '大厂县民宗局', region_code: '131028000000'}})
    tips = [
      recordView({id: 5, title: '已签收的', status: 'acknowledged', status_name: '已签收'}),
      recordView({id: 4, title: '较晚期限', status: 'submitted', tip: {level: 'general', level_name: '一般', ack_deadline: '2024-05-03T09:00:00+08:00', description: 'b'}}),
      recordView({id: 3, title: '最早期限', status: 'submitted', tip: {level: 'major', level_name: '重大', ack_deadline: '2024-05-01T12:00:00+08:00', description: 'a'}}),
      recordView({id: 2, title: '已化解的', status: 'resolved', status_name: '已化解'}),
    ]
    env.fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/tips' && req.method === 'GET') {
        // the server lists the tips in any of the statuses asked for
        const statuses = statusesOf(req)
        return {statusCode: 200, data: {items: tips.filter(t => !statuses.length || statuses.includes(t.status)), next_cursor: ''}}
      }
      const one = p.match(/^\/api\/v1\/tips\/(\d+)$/)
      if (one && req.method === 'GET') {
        const t = tips.find(x => x.id === Number(one[1]))
        return t ? {statusCode: 200, data: t} : F.error(404, 'not_found', '内容不存在')
      }
      const m = p.match(/^\/api\/v1\/tips\/(\d+)\/(\w+)$/)
      if (m) {
        const to = {acknowledge: ['acknowledged', '已签收'], handle: ['handling', '处置中'], resolve: ['resolved', '已化解'], escalate: ['escalated', '已上报']}[m[2]]
        const t = tips.find(x => x.id === Number(m[1]))
        Object.assign(t, {status: to[0], status_name: to[1]})
        if (to[0] !== 'submitted') delete t.tip.ack_deadline
        if (to[0] === 'escalated') Object.assign(t.tip, {escalated_to: 'city', escalated_to_name: '市级'})
        return {statusCode: 200, data: t}
      }
      if (p === '/api/v1/me/duty') return {statusCode: 200, data: {on_duty: req.data.on_duty}}
      if (p === '/api/v1/me') return {statusCode: 200, data: {user: F.staffAccount({on_duty: serverDuty})}}
      if (p === '/api/v1/subscriptions') return {statusCode: 200, data: F.subscriptions([{template_id: 'TPL-TIP', events: ['tip.submitted']}])}
      return F.error(404, 'not_found', '内容不存在')
    }
  })
  afterEach(() => assertContract(env))

  it('asks the server for the open tips only (several statuses at once), and for every unacknowledged one', async () => {
    const page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad()
    await flush(3)
    const lists = env.fake.requests.filter(r => pathOf(r) === '/api/v1/tips' && r.method === 'GET')
    assert.deepEqual(lists.map(statusesOf), [['submitted'], OPEN])
    assert.match(lists[1].url, /\?status=submitted&status=acknowledged&status=handling&status=escalated&limit=50$/)
    assert.ok(!page.data.items.some(i => i.status === 'resolved'))
  })

  it('lists unacknowledged tips first, earliest deadline first, and hides resolved ones', async () => {
    const page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad()
    await flush(3)
    assert.deepEqual(page.data.items.map(i => i.title), ['最早期限', '较晚期限', '已签收的'])
    assert.match(page.querySelector('#tip-3').dom.textContent, /请在2024-05-01 12:00前签收/)
    assert.ok(page.querySelector('#tip-3 .act-acknowledge'))
    assert.ok(page.querySelector('#tip-3 .act-escalate'))
    assert.ok(page.querySelector('#tip-5 .act-handle'))
    assert.ok(page.querySelector('#tip-5 .act-resolve'))
  })

  it('acknowledge with a note, then handle, resolve; escalate; every step through the API', async () => {
    const page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad()
    await flush(3)
    page.instance.onNote({currentTarget: {dataset: {id: 3}}, detail: '已联系村支书'})
    page.querySelector('#tip-3 .act-acknowledge').dispatchEvent('click')
    await flush(5)
    const ack = env.fake.requests.find(r => pathOf(r) === '/api/v1/tips/3/acknowledge')
    assert.equal(ack.method, 'POST')
    assert.deepEqual(ack.data, {note: '已联系村支书'})
    assert.equal(page.data.items[0].title, '较晚期限', 'still unacknowledged: first')
    assert.equal(env.fake.toasts.pop().title, '已签收')

    page.querySelector('#tip-3 .act-handle').dispatchEvent('click')
    await flush(5)
    assert.equal(page.data.items.find(i => i.id === 3).status_name, '处置中')
    page.querySelector('#tip-3 .act-resolve').dispatchEvent('click')
    await flush(5)
    assert.equal(page.data.items.find(i => i.id === 3), undefined, 'resolved tips leave the inbox')

    page.querySelector('#tip-4 .act-escalate').dispatchEvent('click')
    await flush(5)
    assert.equal(page.data.items.find(i => i.id === 4).status_name, '已上报')
    assert.deepEqual(env.fake.requests.filter(r => r.method === 'POST').map(pathOf),
      ['/api/v1/tips/3/acknowledge', '/api/v1/tips/3/handle', '/api/v1/tips/3/resolve', '/api/v1/tips/4/escalate'])
  })

  it("a refused action shows the server's reason", async () => {
    const page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad()
    env.fake.handler = () => ({statusCode: 409, data: {code: 'invalid_transition', message: '该线索当前状态为已化解,不能签收', details: [], request_id: 'x'}})
    await page.instance.onAction({currentTarget: {dataset: {id: 3, action: 'acknowledge'}}})
    assert.equal(env.fake.modals[0].content, '该线索当前状态为已化解,不能签收')
    assert.equal(page.data.busyId, 0)
  })

  it('the on-duty switch asks for the new-tip subscribe message and tells the server', async () => {
    config.templates.tip_submitted = 'TPL-TIP'
    try {
      const page = sim.render('pages/staff-tips/index')
      await page.instance.onLoad()
      page.querySelector('#duty').dispatchEvent('change', {detail: true})
      await flush(8)
      const duty = env.fake.requests.find(r => pathOf(r) === '/api/v1/me/duty')
      assert.equal(duty.method, 'PUT')
      assert.deepEqual(duty.data, {on_duty: true})
      assert.equal(page.data.onDuty, true)
      const sub = env.fake.requests.find(r => pathOf(r) === '/api/v1/subscriptions')
      assert.deepEqual(sub.data, {results: {'TPL-TIP': 'accept'}})
    } finally {
      config.templates.tip_submitted = ''
    }
  })

  it('the duty state is the server\'s (GET /me), not the phone\'s; a refused change puts the switch back', async () => {
    serverDuty = true
    const page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad()
    await flush(3)
    assert.equal(page.data.onDuty, true, 'on duty as set on another phone')
    assert.equal(env.client.user().on_duty, true, 'the session learned it too')
    assert.equal(env.fake.storage.has('staff.on_duty'), false, 'nothing kept in local storage')
    const ok = env.fake.handler
    env.fake.handler = req => (pathOf(req) === '/api/v1/me/duty' ? F.error(503, 'unavailable', '服务暂时不可用,请稍后重试') : ok(req))
    // (the simulator turns a `false` event detail into {}: call the handler as the switch would)
    await page.instance.onDutyChange({detail: false})
    assert.equal(page.data.onDuty, true)
    assert.equal(env.fake.toasts.pop().title, '服务暂时不可用,请稍后重试')
    env.fake.handler = ok
    await page.instance.onDutyChange({detail: false})
    assert.equal(page.data.onDuty, false)
    assert.equal(env.client.user().on_duty, false)
  })

  it('opened from a subscribe message (?id=) for a tip not in the lists: fetched alone, shown first whatever its status, marked, scrolled to', async () => {
    const old = recordView({id: 20, title: '上周上报的线索', status: 'escalated', status_name: '已上报',
      tip: {level: 'critical', level_name: '特别重大', escalated_to: 'city', escalated_to_name: '市级'}})
    const list = env.fake.handler
    env.fake.handler = req => (pathOf(req) === '/api/v1/tips/20' ? {statusCode: 200, data: old} : list(req))
    const page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad({id: '20'})
    await flush(3)
    assert.deepEqual(page.data.items.map(i => i.title), ['上周上报的线索', '最早期限', '较晚期限', '已签收的'])
    assert.ok(page.querySelector('#tip-20.focus'), 'marked')
    assert.match(sim.text(page, '#tip-20 .card-focus'), /消息提醒的线索/)
    assert.equal(page.querySelector('#tip-3.focus'), undefined)
    assert.ok(page.querySelector('#tip-20 .act-acknowledge'), 'its actions are there')
    assert.deepEqual(env.fake.scrolls.map(s => s.selector), ['#tip-20'])
    assert.deepEqual(env.fake.requests.filter(r => r.method === 'GET').map(r => pathOf(r)).filter(p => p !== '/api/v1/me'),
      ['/api/v1/tips', '/api/v1/tips', '/api/v1/tips/20'])
    // acting on it keeps it first while it stays in the inbox
    tips.push(old)
    await page.instance.onAction({currentTarget: {dataset: {id: 20, action: 'acknowledge'}}})
    assert.equal(page.data.items[0].id, 20)
    assert.equal(page.data.items[0].status_name, '已签收')
  })

  it('opened from a message for a tip already listed: no extra request, moved first; a resolved one (not listed) fetched alone; one that cannot be fetched leaves the list as it was', async () => {
    let page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad({id: '5'})
    await flush(3)
    assert.deepEqual(page.data.items.map(i => i.id), [5, 3, 4], 'the tip of the message first')
    assert.ok(!env.fake.requests.some(r => /^\/api\/v1\/tips\/\d+$/.test(pathOf(r))), 'no GET /tips/{id}')
    assert.deepEqual(env.fake.scrolls.map(s => s.selector), ['#tip-5'])
    page.detach()
    env.fake.requests.length = 0
    env.fake.scrolls.length = 0
    page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad({id: '2'})
    await flush(3)
    assert.deepEqual(page.data.items.map(i => i.id), [2, 3, 4, 5], 'the resolved tip of the message is shown, first')
    assert.equal(page.data.items[0].actions.length, 0)
    assert.ok(env.fake.requests.some(r => pathOf(r) === '/api/v1/tips/2'))
    page.detach()
    env.fake.requests.length = 0
    env.fake.scrolls.length = 0
    page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad({id: '99'})
    await flush(3)
    assert.deepEqual(page.data.items.map(i => i.id), [3, 4, 5])
    assert.equal(page.data.error, '')
    assert.ok(env.fake.requests.some(r => pathOf(r) === '/api/v1/tips/99'))
    assert.equal(env.fake.toasts.pop().title, '消息中的线索无法打开:内容不存在')
    assert.deepEqual(env.fake.scrolls, [])
  })

  it('city staff going on duty are asked for new and escalated tips, province staff for escalated ones, county staff for new ones', async () => {
    Object.assign(config.templates, {tip_submitted: 'TPL-TIP', tip_escalated: 'TPL-ESC'})
    const asked = []
    env.fake.requestSubscribeMessage = r => {
      asked.push(r.tmplIds)
      setImmediate(() => r.success({errMsg: 'requestSubscribeMessage:ok'}))
    }
    try {
      for (const role of ['city_staff', 'province_staff', 'county_staff']) {
        const page = sim.render('pages/staff-tips/index')
        await page.instance.onLoad()
        env.client.updateUser({role}) // (GET /me answered with a county account)
        await page.instance.onDutyChange({detail: true})
        page.detach()
      }
      assert.deepEqual(asked, [['TPL-TIP', 'TPL-ESC'], ['TPL-ESC'], ['TPL-TIP']])
    } finally {
      Object.assign(config.templates, {tip_submitted: '', tip_escalated: ''})
    }
  })

  /** Older tips in three pages of the list of all tips; two pending tips listed first. */
  function pagedTips() {
    const pending = [
      recordView({id: 10, title: '十号待签收', status: 'submitted', tip: {ack_deadline: '2024-05-03T09:00:00+08:00'}}),
      recordView({id: 3, title: '三号待签收', status: 'submitted', tip: {ack_deadline: '2024-05-01T09:00:00+08:00'}}),
    ]
    const all = pagedList([
      [pending[0], recordView({id: 9, title: '九号', status: 'acknowledged', status_name: '已签收'}),
        recordView({id: 8, title: '八号已化解', status: 'resolved', status_name: '已化解'})],
      [recordView({id: 7, title: '七号', status: 'handling', status_name: '处置中'}), pending[1],
        recordView({id: 2, title: '二号已化解', status: 'resolved', status_name: '已化解'})],
      [recordView({id: 1, title: '一号', status: 'escalated', status_name: '已上报', tip: {escalated_to: 'city', escalated_to_name: '市级'}})],
    ])
    const others = env.fake.handler
    env.fake.handler = req => {
      if (pathOf(req) !== '/api/v1/tips') return others(req)
      const statuses = statusesOf(req)
      if (statuses.length === 1 && statuses[0] === 'submitted') return {statusCode: 200, data: F.page(pending)}
      // the server leaves out the statuses not asked for
      const r = all.answer(req)
      if (r.data) r.data = F.page(r.data.items.filter(t => statuses.includes(t.status)), r.data.next_cursor)
      return r
    }
    return all
  }

  it('pages the list of all tips at the bottom (next_cursor): older tips appended under the pending ones, none twice; a failed page shows its error with a retry; nothing asked after the last page', async () => {
    const all = pagedTips()
    const page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad()
    await flush(3)
    assert.deepEqual(page.data.items.map(i => i.id), [3, 10, 9], 'pending first by deadline, then the rest; resolved left out')
    assert.equal(sim.text(page, '#list-more'), '加载更多')

    // reaching the bottom twice while the page is on its way asks once
    await Promise.all([page.instance.onReachBottom(), page.instance.onReachBottom()])
    await flush(3)
    const gets = env.fake.requests.filter(r => pathOf(r) === '/api/v1/tips' && statusesOf(r).length > 1)
    assert.deepEqual(gets.map(cursorOf), ['', 'cur-1'])
    assert.deepEqual(statusesOf(gets[1]), OPEN, 'the next pages ask for the open tips too')
    assert.equal(new URL(gets[1].url).searchParams.get('limit'), '50')
    assert.deepEqual(page.data.items.map(i => i.id), [3, 10, 9, 7], 'the pending tip of the second page is not shown again')
    assert.ok(page.querySelector('#tip-7 .act-resolve'), 'an older tip can be handled')

    all.failNext = 1
    await page.instance.onReachBottom()
    await flush(3)
    assert.deepEqual(page.data.items.map(i => i.id), [3, 10, 9, 7], 'the tips loaded stay')
    assert.match(sim.text(page, '#list-more'), /网络不给力,请稍后重试.*重试/)
    assert.equal(page.data.error, '', 'the list itself is fine')
    assert.deepEqual(env.fake.toasts, [])

    retryMore(page)
    await flush(8)
    assert.deepEqual(all.cursors, ['', 'cur-1', 'cur-2', 'cur-2'])
    assert.deepEqual(page.data.items.map(i => i.id), [3, 10, 9, 7, 1])
    assert.equal(sim.text(page, '#list-more'), '没有更多了')

    const asked = env.fake.requests.length
    await page.instance.onReachBottom()
    await flush(3)
    assert.equal(env.fake.requests.length, asked, 'no request after the last page')

    // pulling down starts again from the first page
    await page.instance.onPullDownRefresh()
    await flush(3)
    assert.deepEqual(page.data.items.map(i => i.id), [3, 10, 9])
    assert.equal(page.data.cursor, 'cur-1')
  })

  it('opened from a message (?id=) for an old tip: fetched alone and first; when the pages reach it, it is not shown again', async () => {
    const all = pagedTips()
    const old = all.pages[2][0]
    const list = env.fake.handler
    env.fake.handler = req => (pathOf(req) === '/api/v1/tips/1' ? {statusCode: 200, data: old} : list(req))
    const page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad({id: '1'})
    await flush(3)
    assert.deepEqual(page.data.items.map(i => i.id), [1, 3, 10, 9])
    assert.deepEqual(env.fake.scrolls.map(s => s.selector), ['#tip-1'])
    await page.instance.onReachBottom()
    await flush(3)
    await page.instance.onReachBottom()
    await flush(3)
    assert.deepEqual(all.cursors, ['', 'cur-1', 'cur-2'])
    assert.deepEqual(page.data.items.map(i => i.id), [1, 3, 10, 9, 7], 'still first, once')
    assert.ok(page.querySelector('#tip-1.focus'))
    assert.equal(sim.text(page, '#list-more'), '没有更多了')
  })

  it('shows an error state with a retry button when the list cannot load', async () => {
    env.fake.handler = () => ({fail: 'timeout'})
    const page = sim.render('pages/staff-tips/index')
    await page.instance.onLoad()
    await flush(3)
    assert.match(page.dom.textContent, /网络不给力,请稍后重试/)
    assert.match(page.dom.textContent, /重试/)
  })
})

'use strict'
// Every page and component in app.json is compiled by the official WXML compiler (wcc, through
// miniprogram-simulate) and rendered with a fake wx; a broken template fails here.
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const os = require('os')
const path = require('path')
const {flush, pathOf, deferred} = require('./helpers/fake-wx')
const {setup, recordView, assertContract} = require('./helpers/app')
const qr = require('../miniprogram/utils/qr')
const config = require('../miniprogram/config')
const F = require('./helpers/fixtures')
const {pagedList, retryMore} = require('./helpers/paging')

const app = JSON.parse(fs.readFileSync(path.join(sim.ROOT, 'app.json'), 'utf8'))

let meetings
let bulletins
let tasks
let training

function api(req) {
  const p = pathOf(req)
  if (p === '/api/v1/me') return {statusCode: 200, data: F.me()}
  if (p === '/api/v1/dictionaries') return {statusCode: 200, data: F.dictionaries()}
  if (p === '/api/v1/me/summary') return {statusCode: 200, data: F.summary({visit: 7, tip: 2}, {visit: 20, tip: 10})}
  if (p === '/api/v1/bulletins/unread-count') return {statusCode: 200, data: {unread: 3}}
  if (p === '/api/v1/bulletins') return {statusCode: 200, data: F.page(bulletins)}
  if (p === '/api/v1/bulletins/8') return {statusCode: 200, data: F.bulletinDetail({attachments: [F.upload(31)]})}
  if (p === '/api/v1/meetings') return {statusCode: 200, data: F.page(meetings)}
  if (p === '/api/v1/meetings/6/checkin-token') return {statusCode: 200, data: F.checkinToken(6)}
  if (p === '/api/v1/meetings/6/attendance') return {statusCode: 200, data: F.attendance()}
  if (p === '/api/v1/regions') return {statusCode: 200, data: F.regions('city', [['131000000000', '廊坊市']])}
  if (p === '/api/v1/tasks') return {statusCode: 200, data: F.page(tasks)}
  if (p === '/api/v1/tasks/12') return {statusCode: 200, data: F.taskDetail()}
  if (p === '/api/v1/tasks/12/reports') return {statusCode: 200, data: F.page([F.taskReport()])}
  if (p === '/api/v1/me/training') return {statusCode: 200, data: training}
  if (p === '/api/v1/suggestions') return {statusCode: 200, data: F.page([F.suggestion({answer: '已安排印制'}), F.suggestion({id: 20})])}
  if (p === '/api/v1/subscriptions') return {statusCode: 200, data: F.subscriptions([{}])}
  if (p === '/api/v1/shares') return {statusCode: 200, data: F.page([F.share()])}
  if (p === '/api/v1/tips/1') return {statusCode: 200, data: recordView({timeline: [F.timelineStep()]})}
  if (/^\/api\/v1\/(records|tips|sentiments)$/.test(p)) return {statusCode: 200, data: F.page([])}
  return F.error(404, 'not_found', '内容不存在')
}

/** Taps a van-cell as a finger would (its own tap handler follows its `url`). */
function tapCell(comp, selector) {
  const cell = comp.querySelector(selector)
  assert.ok(cell, selector + ' rendered')
  const inner = cell.querySelector('.van-cell')
  assert.ok(inner, selector + ' is a van-cell')
  // vant's link behaviour asks how deep the page stack is; the simulator has no pages
  if (!global.getCurrentPages) global.getCurrentPages = () => []
  inner.dispatchEvent('tap')
}

const QUERIES = {
  'pages/record-form/index': {kind: 'visit'},
  'pages/record-detail/index': {kind: 'tip', id: '1'},
  'pages/meeting-qr/index': {id: '6', title: '五月例会'},
  'pages/nominate/index': {ticket: 'TK'},
  'pages/task-detail/index': {id: '12'},
}

describe('every page', () => {
  let env
  beforeEach(() => {
    env = setup()
    env.fake.handler = api
    meetings = [
      F.meeting({id: 9, title: '六月例会', starts_at: F.iso(30 * 24 * 3600 * 1000), ends_at: F.iso(30 * 24 * 3600 * 1000 + 7200000)}),
      F.meeting({id: 6, title: '五月例会', status: 'ongoing', status_name: '进行中', checkin_open: true, location_checkin: true,
        starts_at: F.iso(-600000), ends_at: F.iso(3600000)}),
      F.meeting({id: 5, title: '四月例会', status: 'ended', status_name: '已结束', starts_at: F.iso(-30 * 24 * 3600 * 1000), ends_at: F.iso(-30 * 24 * 3600 * 1000 + 7200000)}),
    ]
    bulletins = [F.bulletin()]
    tasks = [
      F.task({id: 14, title: '报送月度工作总结', due_at: F.iso(10 * 24 * 3600 * 1000)}),
      F.task({id: 13, title: '已完成的任务', due_at: F.iso(-3 * 24 * 3600 * 1000), overdue: true, mine: {state: 'done', done_at: F.iso(-4 * 24 * 3600 * 1000), report_count: 1}}),
      F.task({id: 12, title: '排查辖区矛盾纠纷', due_at: F.iso(-2 * 24 * 3600 * 1000 - 3600000), overdue: true, mine: {state: 'in_progress', overdue: true, report_count: 1}}),
    ]
    training = F.myTraining(2024, [F.trainingSession(), F.trainingSession({id: 2, mine: {status: 'absent', status_name: '缺席', hours: 0}})])
  })
  afterEach(() => assertContract(env))

  for (const page of app.pages) {
    it(page + ' compiles, renders and loads', async () => {
      const comp = sim.render(page)
      assert.ok(comp.dom, 'rendered')
      if (comp.instance.onLoad) await comp.instance.onLoad(QUERIES[page] || {})
      await flush(8)
      assert.ok(comp.dom.textContent.trim().length > 0, 'shows something')
      assert.doesNotMatch(comp.dom.textContent, /undefined|NaN|\[object Object\]/)
      if (comp.instance.onUnload) comp.instance.onUnload()
      comp.detach()
    })
  }

  it('record detail shows the role of the five it served and its tags', async () => {
    env.fake.handler = req => (pathOf(req) === '/api/v1/tips/1'
      ? {statusCode: 200, data: recordView({role: 'sentiment_liaison', role_name: '民情联络员', tags: ['shiliu_brand', 'exchange'],
        tag_names: ['石榴花开', '交往交流交融']})}
      : api(req))
    const comp = sim.render('pages/record-detail/index')
    await comp.instance.onLoad({kind: 'tip', id: '1'})
    await flush(5)
    assert.deepEqual(comp.data.fields.slice(0, 2), [{label: '发挥的作用', value: '民情联络员'}, {label: '标签', value: '石榴花开、交往交流交融'}])
    assert.match(comp.dom.textContent, /石榴花开、交往交流交融/)
  })

  it('home shows my unit, its key task, this month\'s counts, unread bulletins and the meeting going on now', async () => {
    const comp = sim.render('pages/home/index')
    await comp.instance.onLoad()
    await flush(8)
    const t = comp.dom.textContent
    assert.match(t, /大厂镇政府/)
    assert.match(t, /宣传党的民族政策/)
    assert.deepEqual(comp.data.counts.map(c => c.n), [7, 0, 2, 0])
    assert.equal(comp.data.unread, 3)
    assert.match(t, /3条未读/)
    // the list is newest first; the one going on now wins over a later one
    assert.equal(comp.data.meeting.id, 6)
    assert.match(t, /五月例会/)
    assert.match(t, /可以签到了/)
    const gets = env.fake.requests.map(r => r.url.replace(/^https:\/\/api\.test/, ''))
    assert.ok(gets.includes('/api/v1/meetings?limit=20'), gets.join(' '))
  })

  it('home shows my tasks not done (how many, the overdue nearest) and this year\'s training hours, each opening its page', async () => {
    const comp = sim.render('pages/home/index')
    await comp.instance.onLoad()
    await flush(8)
    const cell = sim.text(comp, '#go-tasks')
    assert.match(cell, /交办任务/)
    assert.match(cell, /2项待完成/)
    assert.match(cell, /已逾期:排查辖区矛盾纠纷/)
    assert.ok(comp.querySelector('#go-tasks .label-overdue'), 'the overdue task is highlighted')
    assert.deepEqual([comp.data.tasks.open, comp.data.tasks.overdue], [2, 1])
    const training = sim.text(comp, '#go-training')
    assert.match(training, /2024年培训学时/)
    assert.match(training, /3\.5学时/)
    assert.match(training, /参加培训1次/)
    tapCell(comp, '#go-tasks')
    tapCell(comp, '#go-training')
    await flush(2)
    assert.deepEqual(env.fake.navigations, ['/pages/tasks/index', '/pages/training/index'])
    const gets = env.fake.requests.map(r => r.url.replace(/^https:\/\/api\.test/, ''))
    assert.ok(gets.includes('/api/v1/tasks?limit=100'), gets.join(' '))
    assert.ok(gets.includes('/api/v1/me/training'), gets.join(' '))
  })

  it('home with no task open and the training unavailable still opens both pages', async () => {
    tasks = [tasks[1]]
    env.fake.handler = req => (pathOf(req) === '/api/v1/me/training' ? F.error(503, 'unavailable', '服务暂时不可用') : api(req))
    const comp = sim.render('pages/home/index')
    await comp.instance.onLoad()
    await flush(8)
    assert.match(sim.text(comp, '#go-tasks'), /暂无待完成/)
    assert.equal(comp.data.training, null)
    assert.match(sim.text(comp, '#go-training'), /我的培训/)
    assert.doesNotMatch(comp.dom.textContent, /undefined|null/)
  })

  it('staff home shows the workbench with the duty state from /me, and asks for no instructor counts', async () => {
    env.fake.handler = req => (pathOf(req) === '/api/v1/me' ? {statusCode: 200, data: {user: F.staffAccount({on_duty: true})}} : api(req))
    const comp = sim.render('pages/home/index')
    await comp.instance.onLoad()
    await flush(8)
    assert.equal(comp.data.staff, true)
    assert.match(comp.dom.textContent, /我正在值班/)
    const paths = env.fake.requests.map(pathOf)
    assert.ok(!paths.includes('/api/v1/me/summary'))
    assert.ok(!paths.includes('/api/v1/tasks') && !paths.includes('/api/v1/me/training'), 'instructors only')
    assert.equal(comp.querySelector('#go-tasks'), undefined)
    assert.ok(!paths.includes('/api/v1/bulletins/unread-count'), 'instructors only (403 for staff)')
  })

  it('home without a session goes to login', async () => {
    env.client.clearSession()
    const comp = sim.render('pages/home/index')
    await comp.instance.onLoad()
    assert.deepEqual(env.fake.navigations, ['/pages/login/index'])
  })

  it('meetings: answer with {answer}, check in by scanning the code (its token), the server\'s meeting replaces the card', async () => {
    const m6 = meetings[1]
    env.fake.scanResult = F.checkinToken(6).qr_payload
    env.fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/meetings/9/rsvp') return {statusCode: 200, data: F.rsvped(meetings[0], req.data.answer)}
      if (p === '/api/v1/meetings/6/checkin') return {statusCode: 200, data: F.checkedIn(m6, 'qr')}
      return api(req)
    }
    const comp = sim.render('pages/meetings/index')
    await comp.instance.onLoad()
    await flush(3)
    // check-in only where it is open; no answering an ended meeting
    assert.ok(comp.querySelector('#meeting-6 .scan'))
    assert.ok(comp.querySelector('#meeting-6 .locate'), 'the meeting has the venue\'s coordinates')
    assert.equal(comp.querySelector('#meeting-9 .scan'), undefined)
    assert.match(comp.querySelector('#meeting-9').dom.textContent, /开会前30分钟开放签到/)
    assert.equal(comp.querySelector('#meeting-5 .rsvp-yes'), undefined)

    comp.querySelector('#meeting-9 .rsvp-maybe').dispatchEvent('click')
    await flush(5)
    assert.equal(comp.data.items[0].rsvp, 'maybe')
    assert.match(comp.querySelector('#meeting-9').dom.textContent, /我的回复:待定/)

    comp.querySelector('#meeting-6 .scan').dispatchEvent('click')
    await flush(8)
    const posts = env.fake.requests.filter(r => r.method === 'POST')
    assert.deepEqual(posts.map(r => [pathOf(r), r.data]), [
      ['/api/v1/meetings/9/rsvp', {answer: 'maybe'}], ['/api/v1/meetings/6/checkin', {token: F.checkinToken(6).token}]])
    assert.equal(comp.data.items[1].checked_in, true)
    assert.match(comp.querySelector('#meeting-6').dom.textContent, /已签到/)
    assert.equal(comp.querySelector('#meeting-6 .scan'), undefined)
  })

  it('meetings: answering yes or maybe asks, from the tap, for the reminder and change notices; no does not', async () => {
    Object.assign(config.templates, {meeting_reminder: 'TPL-MR', meeting_changed: 'TPL-MC', meeting_cancelled: 'TPL-MX'})
    try {
      env.fake.handler = req => (/\/rsvp$/.test(pathOf(req)) ? {statusCode: 200, data: F.rsvped(meetings[0], req.data.answer)} : api(req))
      const asked = []
      env.fake.requestSubscribeMessage = r => {
        asked.push(r.tmplIds)
        setImmediate(() => r.success({errMsg: 'requestSubscribeMessage:ok', 'TPL-MR': 'accept', 'TPL-MC': 'accept', 'TPL-MX': 'reject'}))
      }
      const comp = sim.render('pages/meetings/index')
      await comp.instance.onLoad()
      await flush(3)
      // the tap handler itself asks (WeChat refuses the request outside a user's tap)
      const answered = comp.instance.onRsvp({currentTarget: {dataset: {id: 9, answer: 'yes'}}})
      assert.deepEqual(asked, [['TPL-MR', 'TPL-MC', 'TPL-MX']], 'asked within the tap, before any answer from the server')
      await answered
      await flush(8)
      assert.match(comp.querySelector('#meeting-9').dom.textContent, /我的回复:参加/)
      comp.querySelector('#meeting-9 .rsvp-no').dispatchEvent('click')
      await flush(8)
      assert.equal(asked.length, 1, 'not asked when not going')
      const sub = env.fake.requests.find(r => pathOf(r) === '/api/v1/subscriptions')
      assert.deepEqual(sub.data, {results: {'TPL-MR': 'accept', 'TPL-MC': 'accept', 'TPL-MX': 'reject'}})
    } finally {
      Object.assign(config.templates, {meeting_reminder: '', meeting_changed: '', meeting_cancelled: ''})
    }
  })

  it('mine: instructors can ask for meeting, task, training and answer notices (at most 3 templates a tap) and open their tasks, training and suggestions', async () => {
    Object.assign(config.templates, {meeting_scheduled: 'TPL-MS', meeting_reminder: 'TPL-MR', task_assigned: 'TPL-TA', meeting_changed: 'TPL-MC',
      training_enrolled: 'TPL-TE', training_reminder: 'TPL-TR', suggestion_answered: 'TPL-SA'})
    try {
      const comp = sim.render('pages/mine/index')
      comp.instance.onLoad()
      await flush(2)
      const asked = []
      env.fake.requestSubscribeMessage = r => {
        asked.push(r.tmplIds)
        setImmediate(() => r.success({errMsg: 'requestSubscribeMessage:ok', 'TPL-MS': 'accept'}))
      }
      comp.querySelector('#subscribe-work').dispatchEvent('click')
      await flush(5)
      assert.deepEqual(asked, [['TPL-MS', 'TPL-MR', 'TPL-TA']])
      comp.querySelector('#subscribe-training').dispatchEvent('click')
      await flush(5)
      assert.deepEqual(asked[1], ['TPL-TE', 'TPL-TR', 'TPL-SA'])
      tapCell(comp, '#go-tasks')
      tapCell(comp, '#go-training')
      tapCell(comp, '#go-suggestions')
      await flush(2)
      assert.deepEqual(env.fake.navigations, ['/pages/tasks/index', '/pages/training/index', '/pages/suggestions/index'])
    } finally {
      Object.assign(config.templates, {meeting_scheduled: '', meeting_reminder: '', task_assigned: '', meeting_changed: '',
        training_enrolled: '', training_reminder: '', suggestion_answered: ''})
    }
  })

  it('meetings opened from a subscribe message (?id=): a meeting not in the list is fetched alone, shown first, marked and scrolled to', async () => {
    const old = F.meeting({id: 3, title: '三月例会', status: 'cancelled', status_name: '已取消', cancel_reason: '改期',
      starts_at: F.iso(-60 * 24 * 3600 * 1000), ends_at: F.iso(-60 * 24 * 3600 * 1000 + 7200000)})
    env.fake.handler = req => (pathOf(req) === '/api/v1/meetings/3' ? {statusCode: 200, data: old} : api(req))
    const comp = sim.render('pages/meetings/index')
    await comp.instance.onLoad({id: '3'})
    await flush(3)
    assert.deepEqual(comp.data.items.map(i => i.id), [3, 9, 6, 5])
    assert.ok(comp.querySelector('#meeting-3.focus'))
    assert.match(sim.text(comp, '#meeting-3'), /消息提醒的例会.*三月例会.*已取消:改期/)
    assert.equal(comp.querySelector('#meeting-9.focus'), undefined)
    assert.deepEqual(env.fake.scrolls.map(s => s.selector), ['#meeting-3'])
    assert.deepEqual(env.fake.requests.map(r => pathOf(r)), ['/api/v1/meetings', '/api/v1/meetings/3'])
    comp.detach()
  })

  it('meetings opened from a message for a listed meeting: moved first without another request; an unknown one leaves the list with a toast', async () => {
    let comp = sim.render('pages/meetings/index')
    await comp.instance.onLoad({id: '6'})
    await flush(3)
    assert.deepEqual(comp.data.items.map(i => i.id), [6, 9, 5])
    assert.ok(comp.querySelector('#meeting-6.focus'))
    assert.ok(comp.querySelector('#meeting-6 .scan'), 'check-in right there')
    assert.deepEqual(env.fake.requests.map(r => pathOf(r)), ['/api/v1/meetings'])
    comp.detach()
    env.fake.requests.length = 0
    env.fake.scrolls.length = 0
    comp = sim.render('pages/meetings/index')
    await comp.instance.onLoad({id: '77'})
    await flush(3)
    assert.deepEqual(comp.data.items.map(i => i.id), [9, 6, 5])
    assert.equal(env.fake.toasts.pop().title, '消息中的例会无法打开:内容不存在')
    assert.deepEqual(env.fake.scrolls, [])
    comp.detach()
  })

  it('mine: staff are asked for the tip alerts of their level (escalated tips for city and province staff)', async () => {
    Object.assign(config.templates, {tip_submitted: 'TPL-TIP', tip_escalated: 'TPL-ESC', tip_acknowledged: 'TPL-ACK'})
    try {
      const asked = []
      env.fake.requestSubscribeMessage = r => {
        asked.push(r.tmplIds)
        setImmediate(() => r.success({errMsg: 'requestSubscribeMessage:ok'}))
      }
      for (const role of ['city_staff', 'province_staff', 'county_staff', 'instructor']) {
        env.client.updateUser({role})
        const comp = sim.render('pages/mine/index')
        comp.instance.onLoad()
        await flush(2)
        comp.querySelector('#subscribe').dispatchEvent('click')
        await flush(5)
        comp.detach()
      }
      assert.deepEqual(asked, [['TPL-TIP', 'TPL-ESC'], ['TPL-ESC'], ['TPL-TIP'], ['TPL-ACK']])
    } finally {
      Object.assign(config.templates, {tip_submitted: '', tip_escalated: '', tip_acknowledged: ''})
    }
  })

  it('meetings page on at the bottom (next_cursor): older meetings appended, the one opened from a message not shown twice; a failed page shows its error with a retry; nothing asked after the last page', async () => {
    const march = F.meeting({id: 3, title: '三月例会', status: 'ended', status_name: '已结束',
      starts_at: F.iso(-60 * 24 * 3600 * 1000), ends_at: F.iso(-60 * 24 * 3600 * 1000 + 7200000)})
    const older = id => F.meeting({id, title: id + '号例会', status: 'ended', status_name: '已结束',
      starts_at: F.iso(-id * 24 * 3600 * 1000 - 90 * 24 * 3600 * 1000), ends_at: F.iso(-id * 24 * 3600 * 1000 - 90 * 24 * 3600 * 1000 + 7200000)})
    const list = pagedList([meetings, [older(4), march], [older(2), older(1)]])
    env.fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/meetings') return list.answer(req)
      if (p === '/api/v1/meetings/3') return {statusCode: 200, data: march}
      return api(req)
    }
    const comp = sim.render('pages/meetings/index')
    await comp.instance.onLoad({id: '3'})
    await flush(3)
    assert.deepEqual(comp.data.items.map(i => i.id), [3, 9, 6, 5], 'the meeting of the message fetched alone, first')
    assert.equal(sim.text(comp, '#list-more'), '加载更多')

    await Promise.all([comp.instance.onReachBottom(), comp.instance.onReachBottom()])
    await flush(3)
    assert.deepEqual(list.cursors, ['', 'cur-1'], 'one request for the page, with its cursor')
    const second = env.fake.requests.filter(r => pathOf(r) === '/api/v1/meetings')[1]
    assert.equal(new URL(second.url).searchParams.get('limit'), '20')
    assert.deepEqual(comp.data.items.map(i => i.id), [3, 9, 6, 5, 4], 'the meeting of the message stays first, once')
    assert.ok(comp.querySelector('#meeting-3.focus'))

    list.failNext = 1
    await comp.instance.onReachBottom()
    await flush(3)
    assert.match(sim.text(comp, '#list-more'), /网络不给力,请稍后重试.*重试/)
    assert.deepEqual(comp.data.items.map(i => i.id), [3, 9, 6, 5, 4])
    retryMore(comp)
    await flush(8)
    assert.deepEqual(list.cursors, ['', 'cur-1', 'cur-2', 'cur-2'])
    assert.deepEqual(comp.data.items.map(i => i.id), [3, 9, 6, 5, 4, 2, 1])
    assert.equal(sim.text(comp, '#list-more'), '没有更多了')
    const asked = env.fake.requests.length
    await comp.instance.onReachBottom()
    await flush(3)
    assert.equal(env.fake.requests.length, asked, 'no request after the last page')
    comp.detach()
  })

  it('staff sentiments page on at the bottom (next_cursor): older reports still to deal with appended, none twice; a failed page shows its error with a retry; nothing asked after the last page', async () => {
    const s = (id, status, status_name) => recordView({kind: 'sentiment', id, title: id + '号民情', status, status_name})
    const list = pagedList([
      [s(30, 'open', '待处理'), s(29, 'closed', '已办结'), s(28, 'forwarded', '已转达')],
      // (an overlap with the page before, should the server's pages ever overlap)
      [s(28, 'forwarded', '已转达'), s(27, 'answered', '已答复'), s(26, 'withdrawn', '已撤回')],
      [s(25, 'open', '待处理')],
    ])
    env.fake.handler = req => (pathOf(req) === '/api/v1/sentiments' ? list.answer(req) : api(req))
    const comp = sim.render('pages/staff-sentiments/index')
    await comp.instance.onLoad()
    await flush(3)
    assert.deepEqual(comp.data.items.map(i => i.id), [30, 28])
    assert.equal(sim.text(comp, '#list-more'), '加载更多')

    await Promise.all([comp.instance.onReachBottom(), comp.instance.onReachBottom()])
    await flush(3)
    assert.deepEqual(list.cursors, ['', 'cur-1'])
    const second = env.fake.requests.filter(r => pathOf(r) === '/api/v1/sentiments')[1]
    assert.equal(new URL(second.url).searchParams.get('limit'), '50')
    assert.deepEqual(comp.data.items.map(i => i.id), [30, 28, 27], 'closed and withdrawn left out, none twice')
    assert.ok(comp.querySelector('#sentiment-27 .close'), 'an older report can be closed')

    list.failNext = 1
    await comp.instance.onReachBottom()
    await flush(3)
    assert.match(sim.text(comp, '#list-more'), /网络不给力,请稍后重试.*重试/)
    assert.deepEqual(comp.data.items.map(i => i.id), [30, 28, 27])
    retryMore(comp)
    await flush(8)
    assert.deepEqual(list.cursors, ['', 'cur-1', 'cur-2', 'cur-2'])
    assert.deepEqual(comp.data.items.map(i => i.id), [30, 28, 27, 25])
    assert.equal(sim.text(comp, '#list-more'), '没有更多了')
    const asked = env.fake.requests.length
    await comp.instance.onReachBottom()
    await flush(3)
    assert.equal(env.fake.requests.length, asked, 'no request after the last page')
  })

  it('a next page still on its way when the list is pulled down again is dropped, not appended to the new list', async () => {
    const s = id => recordView({kind: 'sentiment', id, title: id + '号民情', status: 'open'})
    const list = pagedList([[s(30), s(29)], [s(28)]])
    const held = deferred()
    env.fake.handler = req => (pathOf(req) !== '/api/v1/sentiments' ? api(req)
      : (/cursor=/.test(req.url) ? held.promise.then(() => list.answer(req)) : list.answer(req)))
    const comp = sim.render('pages/staff-sentiments/index')
    await comp.instance.onLoad()
    await flush(3)
    const more = comp.instance.onReachBottom()
    await flush(2)
    assert.equal(comp.data.loadingMore, true)
    assert.match(sim.text(comp, '#list-more'), /加载中/)
    await comp.instance.onPullDownRefresh()
    held.resolve()
    await more
    await flush(3)
    assert.deepEqual(comp.data.items.map(i => i.id), [30, 29])
    assert.equal(comp.data.cursor, 'cur-1', 'the new first page\'s cursor')
    assert.equal(comp.data.loadingMore, false)
  })

  it('bulletins page on at the bottom the same way (next_cursor, none twice, a failed page retried, nothing after the last)', async () => {
    const list = pagedList([[F.bulletin({id: 8}), F.bulletin({id: 7, title: '四月工作简报'})],
      [F.bulletin({id: 7, title: '四月工作简报'}), F.bulletin({id: 6, title: '三月工作简报', read: true})]])
    env.fake.handler = req => (pathOf(req) === '/api/v1/bulletins' ? list.answer(req) : api(req))
    const comp = sim.render('pages/bulletins/index')
    await comp.instance.onLoad()
    await flush(3)
    list.failNext = 1
    await comp.instance.onReachBottom()
    await flush(3)
    assert.match(sim.text(comp, '#list-more'), /网络不给力,请稍后重试.*重试/)
    assert.deepEqual(env.fake.toasts, [])
    retryMore(comp)
    await flush(8)
    assert.deepEqual(list.cursors, ['', 'cur-1', 'cur-1'])
    assert.deepEqual(comp.data.items.map(i => i.id), [8, 7, 6])
    assert.equal(sim.text(comp, '#list-more'), '没有更多了')
    await comp.instance.onReachBottom()
    assert.deepEqual(list.cursors, ['', 'cur-1', 'cur-1'])
  })

  it('meetings: a code of another meeting, or not a check-in code, is refused on the phone', async () => {
    const comp = sim.render('pages/meetings/index')
    await comp.instance.onLoad()
    await flush(3)
    env.fake.scanResult = F.checkinToken(9).qr_payload
    await comp.instance.onScan({currentTarget: {dataset: {id: 6}}})
    env.fake.scanResult = 'https://example.com/'
    await comp.instance.onScan({currentTarget: {dataset: {id: 6}}})
    assert.deepEqual(env.fake.modals.map(m => m.content), ['这是另一次例会的签到码,请核对后再扫', '这不是例会签到码,请扫描会场大屏或组织者手机上的签到码'])
    assert.equal(env.fake.requests.filter(r => r.method === 'POST').length, 0)
  })

  it('meetings: check in by location sends the GCJ-02 position and its accuracy; a refusal shows the server\'s reason', async () => {
    env.fake.getLocation = r => setImmediate(() => r.success({latitude: 39.8801, longitude: 116.9802, accuracy: 18}))
    env.fake.handler = req => (pathOf(req) === '/api/v1/meetings/6/checkin'
      ? F.error(403, 'checkin_too_far', '您距离会场约1200米,超出签到范围(300米)') : api(req))
    const comp = sim.render('pages/meetings/index')
    await comp.instance.onLoad()
    await flush(3)
    comp.querySelector('#meeting-6 .locate').dispatchEvent('click')
    await flush(8)
    const post = env.fake.requests.find(r => r.method === 'POST')
    assert.deepEqual(post.data, {latitude: 39.8801, longitude: 116.9802, accuracy: 18})
    assert.equal(env.fake.modals[0].content, '您距离会场约1200米,超出签到范围(300米)')
  })

  it('bulletins: the list shows summaries; opening one fetches it (the read receipt) and shows its body as text', async () => {
    const comp = sim.render('pages/bulletins/index')
    await comp.instance.onLoad()
    await flush(3)
    assert.match(comp.dom.textContent, /未读/)
    assert.match(comp.dom.textContent, /本月全县开展民族团结进步创建活动/)
    comp.querySelector('#bulletin-8 .card-head').dispatchEvent('tap')
    await flush(5)
    assert.deepEqual(env.fake.requests.map(r => r.method + ' ' + pathOf(r)), ['GET /api/v1/bulletins', 'GET /api/v1/bulletins/8'])
    assert.equal(comp.data.items[0].read, true)
    assert.equal(comp.data.items[0].images.length, 1)
    const body = comp.querySelector('#bulletin-8 .card-body').dom.textContent
    assert.match(body, /一、工作进展/)
    assert.doesNotMatch(body, /##|\*\*/)
    assert.doesNotMatch(comp.querySelector('#bulletin-8').dom.textContent, /未读/)
    // folding and opening again does not fetch again
    comp.querySelector('#bulletin-8 .card-head').dispatchEvent('tap')
    comp.querySelector('#bulletin-8 .card-head').dispatchEvent('tap')
    await flush(3)
    assert.equal(env.fake.requests.length, 2)
  })

  it('the check-in code page shows qr_payload as a QR code, refreshes at refresh_at, and shows attendance', async () => {
    const comp = sim.render('pages/meeting-qr/index')
    await comp.instance.onLoad({id: '6'})
    await flush(3)
    assert.equal(comp.data.qrText, F.checkinToken(6).qr_payload)
    assert.equal(comp.data.qrReady, true)
    assert.match(sim.text(comp, '#attendance'), /5.*已签到.*12.*受邀.*42%.*到会率/)
    assert.match(sim.text(comp, '#attendance'), /马明 · 大厂镇政府/)
    // A location check-in shows its distance, and a doubtful one says why.
    assert.match(sim.text(comp, '#attendance'), /张华 · 夏垫镇政府 · .*定位 · 距会场0米.*请核实:上报位置与会场坐标完全相同/)
    comp.instance.onUnload()
    const m = qr.matrix(F.checkinToken(6).qr_payload)
    assert.ok(m.length >= 21 && (m.length - 17) % 4 === 0, 'a QR version size')
    // the three finder patterns: dark 7x7 rings in three corners
    const n = m.length
    for (const [r0, c0] of [[0, 0], [0, n - 7], [n - 7, 0]]) {
      for (let i = 0; i < 7; i++) {
        assert.equal(m[r0][c0 + i], true)
        assert.equal(m[r0 + 6][c0 + i], true)
        assert.equal(m[r0 + i][c0], true)
      }
      assert.equal(m[r0 + 1][c0 + 1], false)
      assert.equal(m[r0 + 3][c0 + 3], true)
    }
  })

  it('the check-in code of a cancelled meeting shows the server\'s reason and no code', async () => {
    env.fake.handler = req => (pathOf(req) === '/api/v1/meetings/6/checkin-token' ? F.error(409, 'meeting_cancelled', '例会已取消') : api(req))
    const comp = sim.render('pages/meeting-qr/index')
    await comp.instance.onLoad({id: '6'})
    await flush(3)
    assert.equal(comp.data.qrText, '')
    assert.match(comp.dom.textContent, /例会已取消/)
    comp.instance.onUnload()
  })

  it('a broken template fails to compile with the official compiler', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxml-'))
    fs.writeFileSync(path.join(dir, 'index.json'), '{"component": true}')
    fs.writeFileSync(path.join(dir, 'index.js'), 'Component({})')
    fs.writeFileSync(path.join(dir, 'index.wxml'), '<view class="a">\n  <text>{{ a </text>\n</view><view>')
    assert.throws(() => sim.simulate.load(path.join(dir, 'index'), {rootPath: dir}), /编译 \.wxml 文件错误/)
    fs.rmSync(dir, {recursive: true, force: true})
  })
})

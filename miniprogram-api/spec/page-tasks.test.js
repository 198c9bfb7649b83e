'use strict'
// Tasks assigned to me: the list (not done first, nearest due on top, overdue marked), one task with
// my reports, and the report-back form through the outbox (photos first, then the report with its
// client_id; kept on the phone until the server has it; a refusal shows the server's reason).
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, assertContract} = require('./helpers/app')
const {ITEM_PREFIX, TASK_REPORT} = require('../miniprogram/outbox/outbox')
const {UUID_RE} = require('../miniprogram/outbox/uuid')
const config = require('../miniprogram/config')
const F = require('./helpers/fixtures')
const {pagedList, retryMore} = require('./helpers/paging')

const DAY = 24 * 3600 * 1000

describe('my tasks', () => {
  let env
  let tasks
  beforeEach(() => {
    env = setup()
    // newest first, as the server lists them
    tasks = [
      F.task({id: 15, title: '下月底前完成', due_at: F.iso(30 * DAY)}),
      F.task({id: 14, title: '已完成的任务', due_at: F.iso(-DAY), overdue: true, mine: {state: 'done', done_at: F.iso(-2 * DAY), report_count: 2}}),
      F.task({id: 13, title: '明天截止', due_at: F.iso(DAY + 3600000), mine: {state: 'in_progress', report_count: 1}}),
      F.task({id: 12, title: '逾期未完成', due_at: F.iso(-3 * DAY - 3600000), overdue: true, mine: {overdue: true}}),
    ]
    env.fake.handler = req => (pathOf(req) === '/api/v1/tasks' ? {statusCode: 200, data: F.page(tasks)} : F.error(404, 'not_found', '内容不存在'))
  })
  afterEach(() => assertContract(env))

  it('lists the tasks not done first, overdue and nearest due on top, with clear state labels', async () => {
    const page = sim.render('pages/tasks/index')
    await page.instance.onLoad()
    await flush(3)
    assert.deepEqual(page.data.items.map(i => i.title), ['逾期未完成', '明天截止', '下月底前完成', '已完成的任务'])
    assert.match(sim.text(page, '#summary'), /待完成 3 项.*其中已逾期 1 项/)
    const overdue = page.querySelector('#task-12')
    assert.match(overdue.dom.className, /overdue/)
    assert.match(overdue.dom.textContent, /已逾期/)
    assert.match(overdue.dom.textContent, /已逾期3天/)
    assert.match(overdue.dom.textContent, /未开始/)
    assert.match(sim.text(page, '#task-13'), /进行中.*还剩1天.*已反馈1次/)
    assert.doesNotMatch(sim.text(page, '#task-13'), /已逾期/)
    const done = page.querySelector('#task-14')
    assert.match(done.dom.textContent, /已完成/)
    assert.doesNotMatch(done.dom.textContent, /已逾期/, 'a done task is not overdue, even past its due time')
    assert.deepEqual(env.fake.requests.map(r => r.url.replace(/^https:\/\/api\.test/, '')), ['/api/v1/tasks?limit=50'])
    page.querySelector('#task-13').dispatchEvent('tap')
    await flush(2)
    assert.deepEqual(env.fake.navigations, ['/pages/task-detail/index?id=13'])
  })

  it('shows on its task a report still waiting on the phone, and one that failed', async () => {
    env.fake.networkType = 'none'
    env.outbox.submit({kind: TASK_REPORT, task_id: 13, task_title: '明天截止', record: {text: '进展', done: false}})
    const page = sim.render('pages/tasks/index')
    await page.instance.onLoad()
    await flush(3)
    assert.match(sim.text(page, '#task-13'), /1条反馈等待上传/)
    assert.doesNotMatch(sim.text(page, '#task-12'), /反馈/)
  })

  it('pages on at the bottom (next_cursor): older tasks join the list in its order, none twice; a failed page shows its error with a retry; nothing asked after the last page', async () => {
    const list = pagedList([[tasks[0], tasks[1]], [tasks[1], tasks[2]], [tasks[3]]])
    env.fake.handler = req => (pathOf(req) === '/api/v1/tasks' ? list.answer(req) : F.error(404, 'not_found', '内容不存在'))
    const page = sim.render('pages/tasks/index')
    await page.instance.onLoad()
    await flush(3)
    assert.equal(sim.text(page, '#list-more'), '加载更多')
    await Promise.all([page.instance.onReachBottom(), page.instance.onReachBottom()])
    await flush(3)
    assert.deepEqual(list.cursors, ['', 'cur-1'])
    assert.equal(new URL(env.fake.requests[1].url).searchParams.get('limit'), '50')
    assert.deepEqual(page.data.items.map(i => i.title), ['明天截止', '下月底前完成', '已完成的任务'])
    list.failNext = 1
    await page.instance.onReachBottom()
    await flush(3)
    assert.match(sim.text(page, '#list-more'), /网络不给力,请稍后重试.*重试/)
    assert.deepEqual(env.fake.toasts, [])
    retryMore(page)
    await flush(8)
    assert.deepEqual(list.cursors, ['', 'cur-1', 'cur-2', 'cur-2'])
    assert.deepEqual(page.data.items.map(i => i.title), ['逾期未完成', '明天截止', '下月底前完成', '已完成的任务'])
    assert.match(sim.text(page, '#summary'), /待完成 3 项.*其中已逾期 1 项/)
    assert.equal(sim.text(page, '#list-more'), '没有更多了')
    await page.instance.onReachBottom()
    assert.equal(list.cursors.length, 4, 'no request after the last page')
  })

  it('empty, loading and error states', async () => {
    let answer = {statusCode: 200, data: F.page([])}
    env.fake.handler = () => answer
    const page = sim.render('pages/tasks/index')
    const loading = page.instance.onLoad()
    assert.equal(page.data.loading, true)
    await loading
    await flush(3)
    assert.match(page.dom.textContent, /暂无交办给我的任务/)
    answer = {fail: 'timeout'}
    await page.instance.onRetry()
    await flush(3)
    assert.match(page.dom.textContent, /网络不给力,请稍后重试/)
    assert.ok(page.dom.textContent.includes('重试'))
  })
})

describe('one task and reporting back', () => {
  let env
  let task
  let reports
  let posts
  let uploads
  let reportAnswer
  beforeEach(() => {
    env = setup()
    task = F.taskDetail({id: 12, title: '排查辖区矛盾纠纷', due_at: F.iso(2 * DAY + 3600000), attachments: [F.upload(5)]})
    reports = [F.taskReport({id: 40, text: '已走访东关村', attachments: [F.upload(6)]})]
    posts = []
    uploads = []
    reportAnswer = null
    env.fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/uploads') {
        uploads.push(req)
        return {statusCode: 201, data: F.upload(70 + uploads.length)}
      }
      if (p === '/api/v1/tasks/12' && req.method === 'GET') return {statusCode: 200, data: task}
      if (p === '/api/v1/tasks/12/reports' && req.method === 'GET') return {statusCode: 200, data: F.page(reports)}
      if (p === '/api/v1/tasks/12/reports' && req.method === 'POST') {
        posts.push(req.data)
        if (reportAnswer) return reportAnswer(req)
        const saved = F.taskReport({id: 41 + posts.length, client_id: req.data.client_id, text: req.data.text, done: !!req.data.done,
          attachments: (req.data.attachments || []).map(id => F.upload(id)), created_at: F.iso(0)})
        reports = [saved].concat(reports)
        task = F.taskDetail(Object.assign({}, task, {mine: {state: req.data.done ? 'done' : 'in_progress', report_count: reports.length,
          done_at: req.data.done ? F.iso(0) : undefined}}))
        if (!req.data.done) delete task.mine.done_at
        return {statusCode: 201, data: saved}
      }
      if (p === '/api/v1/subscriptions') return {statusCode: 200, data: F.subscriptions([{template_id: 'TPL-TASK', events: ['task.assigned']}])}
      return F.error(404, 'not_found', '内容不存在')
    }
  })
  afterEach(() => assertContract(env))

  async function open() {
    const page = sim.render('pages/task-detail/index')
    await page.instance.onLoad({id: '12'})
    await flush(5)
    return page
  }

  function typeReport(page, text) {
    const field = page.querySelector('#f-text')
    assert.ok(field, 'the report form is open')
    field.dispatchEvent('change', {detail: text})
  }

  it('shows the task, its due time, its attachments and my reports', async () => {
    const page = await open()
    assert.match(sim.text(page, '#task-head'), /排查辖区矛盾纠纷.*未开始.*完成时限:.*还剩2天.*大厂回族自治县交办/)
    assert.match(sim.text(page, '#description'), /排查矛盾纠纷并反馈/)
    assert.equal(page.data.images.length, 1)
    assert.match(page.data.images[0], /^https:\/\/api\.test\/api\/v1\/files\/5\?/)
    assert.match(sim.text(page, '#report-40'), /已走访东关村/)
    assert.equal(page.data.reports[0].images.length, 1)
    assert.deepEqual(env.fake.requests.map(r => r.url.replace(/^https:\/\/api\.test/, '')).sort(),
      ['/api/v1/tasks/12', '/api/v1/tasks/12/reports?limit=50'])
  })

  it('reports completion with text and a photo: asks for task notices from the tap, uploads the photo first, then the report with its client_id', async () => {
    config.templates.task_assigned = 'TPL-TASK'
    try {
      const page = await open()
      page.querySelector('#open-report').dispatchEvent('click')
      await flush(3)
      typeReport(page, '  已排查完毕,未发现矛盾纠纷  ')
      page.querySelector('#choose-done').dispatchEvent('click')
      await page.instance.onAddPhoto()
      await flush(3)
      assert.deepEqual(page.data.form.photos.map(p => p.path), ['wxfile://store/photo1.jpg'])
      page.querySelector('#submit-report').dispatchEvent('click')
      await flush(15)
      assert.equal(env.fake.modals[0].title, '确认任务已完成?')
      // the upload, with the photo's own client_id, then the report
      assert.equal(uploads.length, 1)
      assert.match(uploads[0].formData.client_id, UUID_RE)
      assert.equal(posts.length, 1)
      assert.match(posts[0].client_id, UUID_RE)
      assert.notEqual(posts[0].client_id, uploads[0].formData.client_id)
      assert.deepEqual(Object.assign({}, posts[0], {client_id: 'x'}), {client_id: 'x', text: '已排查完毕,未发现矛盾纠纷', done: true, attachments: [71]})
      const order = env.fake.requests.map(r => r.method + ' ' + pathOf(r)).filter(x => /UPLOAD|POST \/api\/v1\/tasks/.test(x))
      assert.deepEqual(order, ['UPLOAD /api/v1/uploads', 'POST /api/v1/tasks/12/reports'])
      // asked for the next task's notice, from the tap that opened the form
      assert.deepEqual(env.fake.requests.find(r => pathOf(r) === '/api/v1/subscriptions').data, {results: {'TPL-TASK': 'accept'}})
      // the server has it: the page shows the new state and the report, nothing waits on the phone
      assert.equal(page.data.local.length, 0)
      assert.equal(page.data.task.state, 'done')
      assert.match(sim.text(page, '#task-head'), /已完成/)
      assert.match(page.dom.textContent, /已排查完毕,未发现矛盾纠纷/)
      assert.equal(page.data.formOpen, false)
      assert.ok(env.fake.toasts.some(t => t.title === '反馈已送达'))
    } finally {
      config.templates.task_assigned = ''
    }
  })

  it('on a bad network the report stays on the phone as 待上传 with its text and photo path, and the retry button sends it', async () => {
    reportAnswer = () => ({fail: 'timeout'})
    const page = await open()
    page.querySelector('#open-report').dispatchEvent('click')
    await flush(2)
    typeReport(page, '正在走访西关村')
    await page.instance.onAddPhoto()
    page.querySelector('#submit-report').dispatchEvent('click')
    await flush(15)
    assert.equal(env.fake.modals.length, 0, 'progress needs no confirmation')
    assert.equal(page.data.local.length, 1)
    const local = page.querySelector('#local-0')
    assert.match(local.dom.textContent, /进展反馈/)
    assert.match(local.dom.textContent, /待上传/)
    assert.match(local.dom.textContent, /正在走访西关村/)
    assert.match(local.dom.textContent, /网络不给力,请稍后重试,将自动重试/)
    // what is kept: the text and the photo's local path (plus its upload id, so it is not sent twice)
    const id = page.data.local[0].client_id
    const kept = env.fake.getStorageSync(ITEM_PREFIX + id)
    assert.equal(kept.record.text, '正在走访西关村')
    assert.equal(kept.attachments[0].path, 'wxfile://store/photo1.jpg')
    assert.equal(kept.attachments[0].upload_id, 71)
    assert.ok(JSON.stringify(kept).length < 2048, 'small')
    // the network is back: the retry button
    reportAnswer = null
    page.querySelector('#local-0 .retry').dispatchEvent('click')
    await flush(15)
    assert.equal(uploads.length, 1, 'the photo was not uploaded again')
    assert.equal(posts.length, 2)
    assert.equal(posts[1].client_id, posts[0].client_id, 'the retry is recognised by the server')
    assert.equal(page.data.local.length, 0)
    assert.equal(page.data.task.state, 'in_progress')
    assert.match(page.dom.textContent, /正在走访西关村/)
  })

  it('a refusal shows the server\'s reason as 失败 and is not retried by itself; 修改 and 删除 are the user\'s', async () => {
    reportAnswer = () => F.error(404, 'task_not_found', '任务不存在或未交办给您')
    const page = await open()
    page.querySelector('#open-report').dispatchEvent('click')
    await flush(2)
    typeReport(page, '反馈内容')
    page.querySelector('#submit-report').dispatchEvent('click')
    await flush(10)
    assert.match(sim.text(page, '#local-0'), /失败.*任务不存在或未交办给您/)
    await env.outbox.flush({force: true})
    assert.equal(posts.length, 1, 'a 4xx is not retried automatically')
    // 修改 opens the form with the text
    page.querySelector('#local-0 .edit').dispatchEvent('click')
    await flush(2)
    assert.equal(page.data.form.text, '反馈内容')
    assert.equal(page.data.form.editingId, page.data.local[0].client_id)
    page.instance.onCancelReport()
    // 删除 after confirmation
    page.querySelector('#local-0 .delete').dispatchEvent('click')
    await flush(5)
    assert.equal(env.fake.modals[0].title, '删除这条反馈?')
    assert.equal(page.data.local.length, 0)
    assert.equal(env.outbox.list().filter(i => i.kind === TASK_REPORT).length, 0)
  })

  it('an empty report is stopped on the phone', async () => {
    const page = await open()
    page.querySelector('#open-report').dispatchEvent('click')
    await flush(2)
    typeReport(page, '   ')
    page.querySelector('#submit-report').dispatchEvent('click')
    await flush(3)
    assert.equal(page.data.formError, '请填写进展情况')
    assert.match(sim.text(page, '#f-text'), /请填写进展情况/)
    assert.equal(env.outbox.list().length, 0)
    assert.equal(posts.length, 0)
  })

  it('a task that is not mine shows the server\'s message', async () => {
    env.fake.handler = req => F.error(404, 'task_not_found', '任务不存在')
    const page = await open()
    assert.match(page.dom.textContent, /任务不存在/)
    assert.equal(page.querySelector('#open-report'), undefined)
  })
})

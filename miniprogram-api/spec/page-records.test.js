'use strict'
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, recordView, assertContract} = require('./helpers/app')
const {TASK_REPORT} = require('../miniprogram/outbox/outbox')
const F = require('./helpers/fixtures')
const {pagedList, retryMore} = require('./helpers/paging')

function tip(title) {
  return {title, occurred_at: '2024-05-01T09:30:00+08:00', place: '', tip: {level: 'general', kind: 'sign', description: '描述'}}
}

describe('my records list', () => {
  let env
  beforeEach(() => {
    env = setup()
  })
  afterEach(() => assertContract(env))

  it('shows every state: 草稿, 待上传, 失败 with the reason and a retry button, 已提交 with the status, 被退回 with the note and staff feedback', async () => {
    const {outbox, fake} = env
    fake.networkType = 'none'
    outbox.saveDraft({kind: 'tip', record: tip('草稿一条')})
    const failed = outbox.submit({kind: 'tip', record: tip('失败一条')})
    outbox.submit({kind: 'tip', record: tip('排队一条')})
    // make the third one fail: the server refuses it
    fake.networkType = 'wifi'
    fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/tips' && req.data.title === '失败一条') return {statusCode: 400, data: {code: 'invalid_argument', message: '提交的内容有误', details: [{field: 'tip.level', message: '风险等级不正确'}], request_id: 'x'}}
      if (p === '/api/v1/tips') return {fail: 'timeout'}
      if (p === '/api/v1/records') {
        return {statusCode: 200, data: {next_cursor: '', items: [
          recordView({id: 21, title: '被退回的线索', status: 'returned', status_name: '已退回修改', return_note: '请补充人数'}),
          recordView({id: 22, kind: 'sentiment', title: '上学远', status: 'answered', status_name: '已答复',
            sentiment: {category: 'education', content: '上学远', answer: '已协调校车', forwarded_to: '县教育局'}}),
        ]}}
      }
      return F.error(404, 'not_found', '内容不存在')
    }
    await outbox.flush({force: true})
    // the queued one hit a timeout and stays queued; the failed one was refused
    const page = sim.render('pages/records/index')
    await page.instance.onLoad()
    await flush(5)
    const states = page.data.local.map(i => i.state + ':' + i.record.title)
    assert.deepEqual(states.sort(), ['draft:草稿一条', 'failed:失败一条', 'queued:排队一条'])
    const html = page.dom.textContent
    for (const label of ['草稿', '待上传', '失败', '被退回', '已提交']) assert.ok(html.includes(label), label)
    assert.match(html, /提交的内容有误\(风险等级不正确\)/)
    assert.match(html, /网络不给力,请稍后重试,将自动重试/)
    assert.match(html, /退回原因:请补充人数/)
    assert.match(html, /答复:已协调校车/)
    assert.match(html, /已答复/)
    assert.equal(page.data.pending, 1)
    assert.ok(page.querySelector('#sync-bar'))

    // the retry button of the failed record queues it again and sends it
    fake.handler = req => (pathOf(req) === '/api/v1/tips'
      ? {statusCode: 201, data: recordView({id: 30, client_id: req.data.client_id, title: req.data.title})} : F.error(404, 'not_found', '内容不存在'))
    const idx = page.data.local.findIndex(i => i.state === 'failed')
    const retry = page.querySelector('#local-' + idx + ' .retry')
    assert.ok(retry, 'retry button')
    retry.dispatchEvent('click')
    await outbox.flush()
    await flush(5)
    assert.equal(outbox.get(failed.client_id).state, 'submitted')
    assert.ok(page.data.local.some(i => i.client_id === failed.client_id && i.state === 'submitted'))
  })

  it('a returned record opens the form for correction', async () => {
    env.fake.handler = req => (pathOf(req) === '/api/v1/records'
      ? {statusCode: 200, data: {next_cursor: '', items: [recordView({id: 21, status: 'returned', status_name: '已退回修改', return_note: '补充'})]}}
      : F.error(404, 'not_found', '内容不存在'))
    const page = sim.render('pages/records/index')
    await page.instance.onLoad()
    await flush(3)
    page.querySelector('#server-0 .resubmit').dispatchEvent('click')
    await flush(2)
    assert.deepEqual(env.fake.navigations, ['/pages/record-form/index?kind=tip&server_id=21'])
  })

  it('empty, loading and error states', async () => {
    let answer = {statusCode: 200, data: {items: [], next_cursor: ''}}
    env.fake.handler = () => answer
    const page = sim.render('pages/records/index')
    const loading = page.instance.onLoad()
    assert.equal(page.data.loading, true)
    await loading
    await flush(3)
    assert.match(page.dom.textContent, /还没有记录/)
    answer = {fail: 'timeout'}
    await page.instance.onRetryLoad()
    await flush(3)
    assert.match(page.dom.textContent, /网络不给力,请稍后重试。手机上未上传的记录不受影响。/)
  })

  it('a task report that has not reached the server is listed too, and 修改 opens its task', async () => {
    env.fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/tasks/12/reports') return F.error(404, 'task_not_found', '任务不存在')
      if (p === '/api/v1/records') return {statusCode: 200, data: {items: [], next_cursor: ''}}
      return F.error(404, 'not_found', '内容不存在')
    }
    const d = env.outbox.submit({kind: TASK_REPORT, task_id: 12, task_title: '排查矛盾纠纷', record: {text: '进展', done: false}})
    await env.outbox.flush()
    const page = sim.render('pages/records/index')
    await page.instance.onLoad()
    await flush(3)
    assert.equal(page.data.local.length, 1)
    const card = sim.text(page, '#local-0')
    assert.match(card, /任务反馈.*失败/)
    assert.match(card, /任务:排查矛盾纠纷/)
    assert.match(card, /任务不存在/)
    page.querySelector('#local-0 .edit').dispatchEvent('click')
    await flush(2)
    assert.deepEqual(env.fake.navigations, ['/pages/task-detail/index?id=12'])
    // once on the server it is shown on its task, not here
    env.fake.handler = req => (pathOf(req) === '/api/v1/tasks/12/reports'
      ? {statusCode: 201, data: F.taskReport({client_id: req.data.client_id, text: req.data.text})}
      : {statusCode: 200, data: {items: [], next_cursor: ''}})
    env.outbox.retry(d.client_id)
    await env.outbox.flush()
    await flush(3)
    assert.equal(page.data.local.length, 0)
  })

  it('pages on at the bottom (next_cursor): older records appended, none twice; a failed page shows its error with a retry; nothing asked after the last page', async () => {
    const list = pagedList([
      [recordView({id: 21, title: '线索二十一'}), recordView({id: 20, kind: 'visit', title: '走访二十'})],
      [recordView({id: 20, kind: 'visit', title: '走访二十'}), recordView({id: 20, kind: 'mediation', title: '调解二十'})],
      [recordView({id: 19, title: '线索十九'})],
    ])
    env.fake.handler = req => (pathOf(req) === '/api/v1/records' ? list.answer(req) : F.error(404, 'not_found', '内容不存在'))
    const page = sim.render('pages/records/index')
    await page.instance.onLoad()
    await flush(3)
    assert.equal(sim.text(page, '#list-more'), '加载更多')
    await Promise.all([page.instance.onReachBottom(), page.instance.onReachBottom()])
    await flush(3)
    assert.deepEqual(list.cursors, ['', 'cur-1'])
    assert.deepEqual(page.data.items.map(i => i.title), ['线索二十一', '走访二十', '调解二十'])
    list.failNext = 1
    await page.instance.onReachBottom()
    await flush(3)
    assert.match(sim.text(page, '#list-more'), /网络不给力,请稍后重试.*重试/)
    assert.deepEqual(env.fake.toasts, [])
    retryMore(page)
    await flush(8)
    assert.deepEqual(list.cursors, ['', 'cur-1', 'cur-2', 'cur-2'])
    assert.deepEqual(page.data.items.map(i => i.title), ['线索二十一', '走访二十', '调解二十', '线索十九'])
    assert.match(sim.text(page, '#server-3'), /线索十九/)
    assert.equal(sim.text(page, '#list-more'), '没有更多了')
    await page.instance.onReachBottom()
    assert.equal(list.cursors.length, 4, 'no request after the last page')
  })

  it('tells the truth while a record goes text first: 文字已发送 and 照片 n/m, a photo gone from the phone shown as failed, then 已完成', async () => {
    const {outbox, fake} = env
    const gate = Promise.withResolvers ? Promise.withResolvers() : (() => { let resolve; const promise = new Promise(r => { resolve = r }); return {promise, resolve} })()
    let uploads = 0
    fake.missingFiles.push('wxfile://store/gone.jpg')
    fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/tips' && req.method === 'POST') {
        return {statusCode: 201, data: recordView({id: 31, title: req.data.title, attachments: [],
          pending_attachments: req.data.attachment_client_ids.map(c => ({client_id: c, state: 'pending', state_name: '照片上传中', declared_at: '2024-05-01T09:31:00+08:00'}))})}
      }
      if (req.method === 'UPLOAD') {
        uploads++
        return (uploads === 2 ? gate.promise : Promise.resolve()).then(() => ({statusCode: 201, data: JSON.stringify(F.upload(40 + uploads))}))
      }
      if (p === '/api/v1/records') return {statusCode: 200, data: {next_cursor: '', items: []}}
      return F.error(404, 'not_found', '内容不存在')
    }
    const page = sim.render('pages/records/index')
    await page.instance.onLoad()
    outbox.submit({kind: 'tip', record: tip('先发文字'), attachments: [
      {path: 'wxfile://store/a.jpg', type: 'image'}, {path: 'wxfile://store/gone.jpg', type: 'image'}, {path: 'wxfile://store/b.jpg', type: 'image'}]})
    await flush(30)
    // the text is on the server, the first photo too, the second is gone, the third on its way
    let card = sim.text(page, '#local-0')
    assert.match(card, /文字已发送/)
    assert.match(card, /文字已发送 · 照片 1\/3/)
    assert.match(card, /第2个附件\(照片\)未能发送:文件已不在手机上,未能发送/)
    assert.doesNotMatch(card, /失败/)
    gate.resolve()
    await outbox.flush()
    await flush(10)
    card = sim.text(page, '#local-0')
    assert.match(card, /已完成 · 照片 2\/3,1个未能发送/)
    assert.match(card, /已提交/)
  })

  it('shows a record once while its photos go up: the phone\'s card with its progress, the server\'s card once the phone\'s is done', async () => {
    const {outbox, fake} = env
    const gate = Promise.withResolvers ? Promise.withResolvers() : (() => { let resolve; const promise = new Promise(r => { resolve = r }); return {promise, resolve} })()
    let onServer = false
    fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/tips' && req.method === 'POST') {
        onServer = true
        return {statusCode: 201, data: recordView({id: 31, title: req.data.title, attachments: [],
          pending_attachments: req.data.attachment_client_ids.map(c => ({client_id: c, state: 'pending', state_name: '照片上传中', declared_at: '2024-05-01T09:31:00+08:00'}))})}
      }
      if (req.method === 'UPLOAD') return gate.promise.then(() => ({statusCode: 201, data: JSON.stringify(F.upload(41))}))
      if (p === '/api/v1/records') return {statusCode: 200, data: {next_cursor: '', items: onServer ? [recordView({id: 31, title: '只显示一次'})] : []}}
      return F.error(404, 'not_found', '内容不存在')
    }
    const page = sim.render('pages/records/index')
    await page.instance.onLoad()
    outbox.submit({kind: 'tip', record: tip('只显示一次'), attachments: [{path: 'wxfile://store/a.jpg', type: 'image'}]})
    await flush(30)
    await page.instance.load()
    await flush(5)
    const cards = () => (page.dom.textContent.match(/只显示一次/g) || []).length
    assert.equal(page.data.items.length, 1, 'the server lists it')
    assert.equal(cards(), 1, 'one card while the photo goes up')
    assert.match(sim.text(page, '#local-0'), /文字已发送 · 照片 0\/1/)
    gate.resolve()
    await outbox.flush()
    await flush(10)
    await page.instance.load()
    await flush(5)
    assert.equal(page.data.local.length, 0, 'the phone\'s card leaves once the server shows the record')
    assert.equal(cards(), 1, 'and the server\'s card is back')
  })

  it('deletes a draft after confirmation', async () => {
    env.fake.networkType = 'none'
    const d = env.outbox.saveDraft({kind: 'tip', record: tip('删掉我')})
    env.fake.handler = () => ({statusCode: 200, data: {items: [], next_cursor: ''}})
    const page = sim.render('pages/records/index')
    await page.instance.onLoad()
    await flush(3)
    page.querySelector('#local-0 .delete').dispatchEvent('click')
    await flush(5)
    assert.equal(env.fake.modals[0].title, '删除这条记录?')
    assert.equal(env.outbox.get(d.client_id), null)
    assert.equal(page.data.local.length, 0)
  })
})

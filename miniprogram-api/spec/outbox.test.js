'use strict'
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {createFakeWx, deferred, flush, pathOf, utf8Bytes} = require('./helpers/fake-wx')
const {createClient} = require('../miniprogram/api/client')
const {createOutbox, backoffDelay, INDEX_KEY, ITEM_PREFIX, BACKOFF_CAP, TASK_REPORT, TEXT_PARALLEL} = require('../miniprogram/outbox/outbox')
const {UUID_RE} = require('../miniprogram/outbox/uuid')

const BASE = 'https://api.test'

function tipRecord(title, level) {
  return {
    title: title || '村口聚集',
    occurred_at: '2024-05-01T09:30:00+08:00',
    place: '大厂镇',
    tip: {level: level || 'serious', kind: 'sign', people_involved: 12, groups_involved: '村民', description: '有人在村口聚集', ongoing: true},
  }
}

function visitRecord(title) {
  return {title, occurred_at: '2024-05-01T09:30:00+08:00', visit: {visit_kind: 'home_visit', content: '入户'}}
}

/**
 * An in-memory server: stores records by (client_id), like the real one. With `uploadIds` on, an
 * upload with a known form field client_id gets the first upload back (200), as the server does
 * once it takes upload client_ids. A record or report referring to an upload it does not have is
 * refused as the server refuses it (400, details field `attachments`); `sweep()` deletes the
 * uploads nothing refers to, as the server's orphan sweep does after `uploads.orphan_after`.
 * A record's `attachment_client_ids` are kept as pending until the upload with that client_id
 * arrives, then attached (text first), as the server does (migration 42).
 */
function fakeServer() {
  const s = {records: [], uploads: [], posts: [], reports: [], nextId: 100, failNext: [], order: [], uploadIds: false}
  const missingUpload = data => (data.attachments || []).find(id => !s.uploads.some(u => u.id === id))
  const refuseMissing = id => ({statusCode: 400, data: {code: 'invalid_argument', message: '提交的内容有误:附件' + id + '不存在或不是您上传的',
    details: [{field: 'attachments', message: '附件' + id + '不存在或不是您上传的'}], request_id: 'att'}})
  s.sweep = () => {
    const used = s.records.concat(s.reports).reduce((a, r) => a.concat(r.attachments || []), [])
    const before = s.uploads.length
    s.uploads = s.uploads.filter(u => used.indexOf(u.id) >= 0)
    return before - s.uploads.length
  }
  s.handle = req => {
    const p = pathOf(req)
    s.order.push((req.method || 'GET') + ' ' + p)
    const f = s.failNext.shift()
    if (f) return typeof f === 'function' ? f(req) : f
    if (req.method === 'UPLOAD') {
      const cid = req.formData && req.formData.client_id
      const old = s.uploadIds && cid && s.uploads.find(u => u.client_id === cid)
      if (old) return {statusCode: 200, data: JSON.stringify({id: old.id, kind: 'image'})}
      const id = s.nextId++
      s.uploads.push({id, path: req.filePath, client_id: cid})
      const waiting = cid && s.records.find(r => (r.pending || []).indexOf(cid) >= 0)
      if (waiting) {
        waiting.pending = waiting.pending.filter(c => c !== cid)
        waiting.attachments = (waiting.attachments || []).concat([id])
      }
      return {statusCode: 201, data: JSON.stringify({id, kind: 'image'})}
    }
    const t = p.match(/^\/api\/v1\/tasks\/(\d+)\/reports$/)
    if (t && req.method === 'POST') {
      s.posts.push(req.data)
      const old = s.reports.find(r => r.client_id === req.data.client_id)
      if (old) return {statusCode: 200, data: old}
      if (missingUpload(req.data)) return refuseMissing(missingUpload(req.data))
      const rep = Object.assign({id: s.nextId++, task_id: Number(t[1])}, req.data)
      s.reports.push(rep)
      return {statusCode: 201, data: rep}
    }
    const m = p.match(/^\/api\/v1\/(visits|sentiments|tips|mediations)$/)
    if (m && req.method === 'POST') {
      s.posts.push(req.data)
      const old = s.records.find(r => r.client_id === req.data.client_id)
      if (old) return {statusCode: 200, data: old}
      if (missingUpload(req.data)) return refuseMissing(missingUpload(req.data))
      const rec = Object.assign({id: s.nextId++, status: 'submitted', status_name: '待签收'}, req.data)
      rec.attachments = (rec.attachments || []).slice()
      rec.pending = []
      ;(req.data.attachment_client_ids || []).forEach(cid => {
        const up = s.uploads.find(u => u.client_id === cid)
        if (up) rec.attachments.push(up.id)
        else rec.pending.push(cid)
      })
      s.records.push(rec)
      return {statusCode: 201, data: rec}
    }
    return {statusCode: 404, data: {code: 'not_found', message: '内容不存在', details: [], request_id: 'x'}}
  }
  return s
}

describe('outbox', () => {
  let fake
  let client
  let outbox
  let server
  let clock
  let timers
  let rnd

  beforeEach(() => {
    fake = createFakeWx()
    global.wx = fake
    server = fakeServer()
    fake.handler = server.handle
    clock = 1700000000000
    timers = []
    rnd = 0.5
    client = createClient({baseURL: BASE, now: () => clock})
    client.setSession({access_token: 'A', refresh_token: 'R', expires_in: 86400, user: {id: 1, role: 'instructor'}})
    outbox = createOutbox({
      client,
      now: () => clock,
      random: () => rnd,
      setTimer: (fn, ms) => { const t = {fn, ms, at: clock + ms}; timers.push(t); return t },
      clearTimer: t => { const i = timers.indexOf(t); if (i >= 0) timers.splice(i, 1) },
    })
  })
  afterEach(() => {
    outbox.stop()
    delete global.wx
  })

  it('saves a draft locally first: a UUID v4 client_id at creation, one storage key per record plus an index', () => {
    const d = outbox.saveDraft({kind: 'tip', record: tipRecord(), attachments: [{path: 'wxfile://store/p1.jpg', type: 'image'}]})
    assert.match(d.client_id, UUID_RE)
    assert.equal(d.state, 'draft')
    assert.equal(d.state_label, '草稿')
    assert.deepEqual(fake.getStorageSync(INDEX_KEY), [d.client_id])
    const stored = fake.getStorageSync(ITEM_PREFIX + d.client_id)
    assert.equal(stored.record.title, '村口聚集')
    assert.equal(stored.attachments[0].path, 'wxfile://store/p1.jpg')
    assert.equal(fake.requests.length, 0, 'a draft is not sent')
    // editing keeps the client_id
    const again = outbox.saveDraft({client_id: d.client_id, kind: 'tip', record: tipRecord('改过的标题')})
    assert.equal(again.client_id, d.client_id)
    assert.equal(outbox.list().length, 1)
  })

  it('sends the text first with its files declared by client_id, then each file once; the draft shows 文字已发送, 照片 n/m, 已完成', async () => {
    const d = outbox.submit({kind: 'tip', record: tipRecord(), attachments: [
      {path: 'wxfile://store/p1.jpg', type: 'image'}, {path: 'wxfile://store/v1.aac', type: 'audio'}]})
    const progress = []
    outbox.subscribe(items => {
      const p = items[0].progress_label
      if (p && progress[progress.length - 1] !== p) progress.push(p)
    })
    await outbox.flush()
    assert.deepEqual(server.order, ['POST /api/v1/tips', 'UPLOAD /api/v1/uploads', 'UPLOAD /api/v1/uploads'])
    assert.deepEqual(server.uploads.map(u => u.path), ['wxfile://store/p1.jpg', 'wxfile://store/v1.aac'])
    const body = server.posts[0]
    assert.equal(body.client_id, d.client_id)
    assert.deepEqual(body.attachments, [])
    assert.deepEqual(body.attachment_client_ids, fake.uploads.map(u => u.formData.client_id))
    assert.equal(body.tip.level, 'serious')
    assert.deepEqual(server.records[0].attachments, server.uploads.map(u => u.id), 'each file reached its record')
    assert.deepEqual(progress, ['文字已发送 · 照片 0/2', '文字已发送 · 照片 1/2', '已完成'])
    const it = outbox.get(d.client_id)
    assert.equal(it.progress_label, '已完成')
    assert.equal(it.state, 'submitted')
    assert.equal(it.state_label, '已提交')
    assert.equal(it.server_id, server.records[0].id)
    assert.equal(it.record.tip, undefined, 'the local copy is trimmed once the server has it')
  })

  it('sends queued records\' text in the order they were queued, a few at once, and every text before any photo', async () => {
    const gate = deferred()
    let inFlight = 0
    let max = 0
    fake.handler = req => {
      inFlight++
      max = Math.max(max, inFlight)
      return gate.promise.then(() => { inFlight--; return server.handle(req) })
    }
    const photo = n => [{path: 'wxfile://store/p' + n + '.jpg', type: 'image'}]
    const a = outbox.submit({kind: 'tip', record: tipRecord('一'), attachments: photo(1)})
    const b = outbox.submit({kind: 'visit', record: visitRecord('二'), attachments: photo(2)})
    const c = outbox.submit({kind: 'sentiment', record: {title: '三', occurred_at: '2024-05-01T09:30:00+08:00', sentiment: {category: 'education', content: '上学远', urgency: 'normal'}}})
    const more = [4, 5, 6].map(n => outbox.submit({kind: 'visit', record: visitRecord(String(n)), attachments: photo(n)}))
    await flush(10)
    assert.equal(TEXT_PARALLEL, 4)
    assert.deepEqual([a, b, c, more[0], more[1]].map(x => outbox.get(x.client_id).state), ['sending', 'sending', 'sending', 'sending', 'queued'])
    assert.equal(outbox.get(more[1].client_id).state_label, '待上传')
    gate.resolve()
    await outbox.flush()
    assert.equal(max, TEXT_PARALLEL)
    assert.deepEqual(server.posts.map(p => p.title), ['一', '二', '三', '4', '5', '6'])
    assert.deepEqual(server.order.slice(6), Array(5).fill('UPLOAD /api/v1/uploads'), 'the photos after all the text')
    assert.deepEqual(server.uploads.map(u => u.path), [1, 2, 4, 5, 6].map(n => 'wxfile://store/p' + n + '.jpg'), 'first in, first out')
    assert.ok([a, b, c].concat(more).every(x => outbox.get(x.client_id).state === 'submitted'))
  })

  it('a slow text does not hold the others back: the next text starts as soon as one is answered', async () => {
    const gate = deferred()
    let first = true
    fake.handler = req => {
      if (first) {
        first = false
        return gate.promise.then(() => server.handle(req))
      }
      return server.handle(req)
    }
    const ds = [1, 2, 3, 4, 5, 6, 7].map(n => outbox.submit({kind: 'visit', record: visitRecord('第' + n + '条')}))
    await flush(40)
    assert.deepEqual(server.posts.map(p => p.title), ['第2条', '第3条', '第4条', '第5条', '第6条', '第7条'], 'six answered while the first waits')
    assert.equal(outbox.get(ds[0].client_id).state, 'sending')
    gate.resolve()
    await outbox.flush()
    assert.ok(ds.every(d => outbox.get(d.client_id).state === 'submitted'))
  })

  it('a network failure keeps the record queued with a backoff; the retry neither sends the text again nor uploads twice', async () => {
    const d = outbox.submit({kind: 'tip', record: tipRecord(), attachments: [
      {path: 'wxfile://store/p1.jpg', type: 'image'}, {path: 'wxfile://store/p2.jpg', type: 'image'}]})
    server.failNext = [null, null, {fail: 'timeout'}] // the text and a photo go through, the second photo times out
    await outbox.flush()
    let it = outbox.get(d.client_id)
    assert.equal(it.state, 'queued')
    assert.equal(it.state_label, '文字已发送')
    assert.equal(it.display_state, 'text_sent')
    assert.equal(it.progress_label, '文字已发送 · 照片 1/2')
    assert.equal(it.last_error, '网络不给力,请稍后重试')
    assert.equal(it.attachments[0].upload_id, server.uploads[0].id)
    const delay = it.next_attempt_at - clock
    assert.ok(delay >= 1000 && delay <= 2000, 'first retry between 1 and 2 s, got ' + delay)
    assert.equal(timers.length, 1, 'a timer is armed for the retry')
    assert.equal(timers[0].ms, delay)
    // the timer fires
    clock += delay
    timers.shift().fn()
    await outbox.flush()
    it = outbox.get(d.client_id)
    assert.equal(it.state, 'submitted')
    assert.equal(server.uploads.length, 2, 'each photo was stored once')
    assert.equal(fake.uploads.filter(u => u.filePath === 'wxfile://store/p1.jpg').length, 1, 'the first photo was uploaded once')
    assert.equal(server.posts.length, 1, 'the text went once')
    assert.equal(server.posts[0].client_id, d.client_id)
    assert.equal(server.records[0].attachments.length, 2)
  })

  it('a lost answer after the server stored the record: the retry with the same client_id is stored once', async () => {
    const d = outbox.submit({kind: 'tip', record: tipRecord()})
    server.failNext = [req => { server.failNext = []; server.handle(req); server.order.pop(); return {fail: 'interrupted'} }]
    await outbox.flush()
    assert.equal(outbox.get(d.client_id).state, 'queued')
    assert.equal(server.records.length, 1)
    await outbox.flush({force: true})
    assert.equal(outbox.get(d.client_id).state, 'submitted')
    assert.equal(server.records.length, 1, 'stored once')
    assert.equal(outbox.get(d.client_id).server_id, server.records[0].id)
    assert.equal(server.posts[0].client_id, server.posts[1].client_id)
  })

  it('a 4xx refusal stops retrying and shows why; the retry button sends it again', async () => {
    const d = outbox.submit({kind: 'tip', record: tipRecord()})
    server.failNext = [{statusCode: 400, data: {code: 'invalid_argument', message: '提交的内容有误', details: [{field: 'tip.level', message: '风险等级不在可选范围内'}], request_id: 'q1'}}]
    await outbox.flush()
    let it = outbox.get(d.client_id)
    assert.equal(it.state, 'failed')
    assert.equal(it.state_label, '失败')
    assert.equal(it.error.message, '提交的内容有误(风险等级不在可选范围内)')
    assert.equal(it.error.request_id, 'q1')
    assert.equal(timers.length, 0, 'no automatic retry')
    fake.setNetwork('wifi')
    await outbox.flush({force: true})
    assert.equal(outbox.get(d.client_id).state, 'failed', 'the network coming back does not resend a refused record')
    assert.equal(server.posts.length, 0)
    outbox.retry(d.client_id)
    await outbox.flush()
    it = outbox.get(d.client_id)
    assert.equal(it.state, 'submitted')
    assert.equal(it.client_id, d.client_id)
  })

  it('408, 429 and 5xx are retried; 403, 404, 409, 413 and 422 are not', async () => {
    for (const status of [408, 429, 500, 502, 503]) {
      const d = outbox.submit({kind: 'tip', record: tipRecord('s' + status)})
      server.failNext = [{statusCode: status, data: {code: 'x', message: '稍后再试', details: [], request_id: 'r'}}]
      await outbox.flush()
      assert.equal(outbox.get(d.client_id).state, 'queued', String(status))
      await outbox.flush({force: true})
      assert.equal(outbox.get(d.client_id).state, 'submitted', String(status))
    }
    for (const status of [403, 404, 409, 413, 422]) {
      const d = outbox.submit({kind: 'tip', record: tipRecord('f' + status)})
      server.failNext = [{statusCode: status, data: {code: 'x', message: '不行' + status, details: [], request_id: 'r'}}]
      await outbox.flush()
      const it = outbox.get(d.client_id)
      assert.equal(it.state, 'failed', String(status))
      assert.equal(it.error.message, '不行' + status)
    }
  })

  it('a photo the server refuses fails that photo, not the record', async () => {
    const d = outbox.submit({kind: 'tip', record: tipRecord(), attachments: [
      {path: 'wxfile://store/bad.heic', type: 'image'}, {path: 'wxfile://store/ok.jpg', type: 'image'}]})
    server.failNext = [null, {statusCode: 415, data: JSON.stringify({code: 'unsupported_file_type', message: '图片格式不支持', details: [], request_id: 'u'})}]
    await outbox.flush()
    const it = outbox.get(d.client_id)
    assert.equal(it.state, 'submitted')
    assert.equal(it.error, null)
    assert.equal(it.attachments[0].failed, '图片格式不支持')
    assert.ok(it.attachments[1].upload_id, 'the other photo went')
    assert.equal(it.progress_label, '已完成 · 照片 1/2,1个未能发送')
    assert.equal(server.records.length, 1)
    assert.deepEqual(server.records[0].attachments, [it.attachments[1].upload_id])
    assert.deepEqual(server.records[0].pending, [it.attachments[0].client_id], 'the server shows it as not arrived')
    assert.equal(timers.length, 0, 'no retry is scheduled')
  })

  it('a photo no longer on the phone fails that photo at once, not the record, instead of retrying forever', async () => {
    const d = outbox.submit({kind: 'visit', record: visitRecord('入户走访'), attachments: [
      {path: 'wxfile://store/gone.jpg', type: 'image'}, {path: 'wxfile://store/ok.jpg', type: 'image'}]})
    fake.missingFiles.push('wxfile://store/gone.jpg')
    await outbox.flush()
    const it = outbox.get(d.client_id)
    assert.equal(it.state, 'submitted', 'the record is sent')
    assert.equal(it.attachments[0].failed, '文件已不在手机上,未能发送')
    assert.equal(it.progress_label, '已完成 · 照片 1/2,1个未能发送')
    assert.deepEqual(fake.uploads.map(u => u.filePath), ['wxfile://store/ok.jpg'], 'only the photo that is there was uploaded')
    assert.equal(server.posts.length, 1)
    assert.deepEqual(server.records[0].attachments, [server.uploads[0].id])
    assert.equal(timers.length, 0, 'no retry is scheduled')
  })

  it('a 2xx answer without the stored record keeps it queued; the retry stores it once', async () => {
    const d = outbox.submit({kind: 'visit', record: visitRecord('入户走访')})
    server.failNext = [{statusCode: 201, data: {}}]
    await outbox.flush()
    let it = outbox.get(d.client_id)
    assert.equal(it.state, 'queued')
    assert.equal(it.last_error, '服务器的回答不完整,稍后自动重试')
    clock = it.next_attempt_at
    await outbox.flush()
    it = outbox.get(d.client_id)
    assert.equal(it.state, 'submitted')
    assert.equal(server.records.length, 1)
    assert.equal(it.server_id, server.records[0].id)
  })

  it('an expired login keeps records queued and asks for login once', async () => {
    let asked = 0
    outbox.onAuthRequired(() => asked++)
    const a = outbox.submit({kind: 'tip', record: tipRecord('a')})
    const b = outbox.submit({kind: 'tip', record: tipRecord('b')})
    for (let i = 0; i < TEXT_PARALLEL; i++) outbox.submit({kind: 'tip', record: tipRecord('c' + i)})
    fake.handler = req => (pathOf(req) === '/api/v1/auth/refresh'
      ? {statusCode: 401, data: {code: 'refresh_invalid', message: '请重新登录', details: [], request_id: 'x'}}
      : {statusCode: 401, data: {code: 'token_invalid', message: 'x', details: [], request_id: 'y'}})
    await outbox.flush()
    assert.equal(asked, 1)
    assert.equal(outbox.get(a.client_id).state, 'queued')
    assert.equal(outbox.get(b.client_id).state, 'queued')
    assert.equal(outbox.get(a.client_id).last_error, '登录已失效,重新登录后自动上传')
    assert.equal(fake.requests.filter(r => pathOf(r) === '/api/v1/tips').length, TEXT_PARALLEL, 'stopped after the first texts sent at once')
  })

  it('waits while offline and resumes as soon as the network comes back', async () => {
    fake.networkType = 'none'
    await outbox.init()
    const d = outbox.submit({kind: 'tip', record: tipRecord()})
    await outbox.flush()
    assert.equal(outbox.get(d.client_id).state, 'queued')
    assert.equal(fake.requests.length, 0)
    fake.setNetwork('2g')
    await flush(10)
    await outbox.flush()
    assert.equal(outbox.get(d.client_id).state, 'submitted')
  })

  it('after a restart a record left "sending" is queued again and sent with the same client_id', async () => {
    const d = outbox.saveDraft({kind: 'tip', record: tipRecord()})
    const raw = fake.getStorageSync(ITEM_PREFIX + d.client_id)
    raw.state = 'sending'
    fake.setStorageSync(ITEM_PREFIX + d.client_id, raw)
    const restarted = createOutbox({client, now: () => clock, setTimer: () => null, clearTimer: () => {}})
    await restarted.init()
    assert.equal(restarted.get(d.client_id).state, 'submitted')
    assert.equal(server.posts[0].client_id, d.client_id)
    restarted.stop()
  })

  it('backoff grows exponentially with jitter between half and the whole step, capped at 5 minutes', () => {
    for (let n = 1; n <= 12; n++) {
      const step = Math.min(BACKOFF_CAP, 2000 * Math.pow(2, n - 1))
      assert.equal(backoffDelay(n, () => 0), step / 2, 'low ' + n)
      assert.equal(backoffDelay(n, () => 0.999999), Math.round(step / 2 + 0.999999 * step / 2), 'high ' + n)
      for (let i = 0; i < 50; i++) {
        const x = backoffDelay(n)
        assert.ok(x >= step / 2 && x <= step, `attempt ${n}: ${x} not in [${step / 2}, ${step}]`)
      }
    }
    assert.deepEqual([1, 2, 3, 4].map(n => backoffDelay(n, () => 0)), [1000, 2000, 4000, 8000])
    assert.equal(backoffDelay(30, () => 1), BACKOFF_CAP)
  })

  it('successive network failures back off further each time', async () => {
    const d = outbox.submit({kind: 'tip', record: tipRecord()})
    fake.handler = () => ({fail: 'timeout'})
    const delays = []
    for (let i = 0; i < 5; i++) {
      await outbox.flush(i === 0 ? undefined : {force: true}) // the first joins the run that submit started
      delays.push(outbox.get(d.client_id).next_attempt_at - clock)
    }
    assert.deepEqual(delays, [1500, 3000, 6000, 12000, 24000]) // random 0.5: three quarters of each step
    assert.equal(outbox.get(d.client_id).state, 'queued', 'never dropped')
  })

  it('refuses a record over 1 MB with a clear message and keeps the other drafts', () => {
    const ok = outbox.saveDraft({kind: 'tip', record: tipRecord()})
    const huge = tipRecord()
    huge.tip.description = '民'.repeat(360 * 1024) // 3 bytes each: over 1 MB
    assert.throws(() => outbox.saveDraft({kind: 'tip', record: huge}), e => e.code === 'too_large' && /超过了手机单条存储上限1MB/.test(e.message))
    assert.deepEqual(fake.getStorageSync(INDEX_KEY), [ok.client_id])
    assert.equal(outbox.list().length, 1)
  })

  it('refuses a draft when storage nears 10 MB, after trimming sent summaries first', async () => {
    // ~9.8 MB of other data
    for (let i = 0; i < 10; i++) fake.setStorageSync('cache.' + i, 'x'.repeat(980 * 1024))
    const big = tipRecord()
    big.tip.description = '民'.repeat(100 * 1024) // ~300 KB
    assert.throws(() => outbox.saveDraft({kind: 'tip', record: big}), e => e.code === 'storage_full' && /10MB/.test(e.message))
    assert.deepEqual(fake.getStorageSync(INDEX_KEY), '')
    // a small one still fits
    const small = outbox.saveDraft({kind: 'tip', record: tipRecord()})
    assert.ok(utf8Bytes(JSON.stringify(fake.getStorageSync(ITEM_PREFIX + small.client_id))) < 2048)
  })

  it('measures Chinese text in UTF-8 bytes, not characters', () => {
    const {utf8Length} = require('../miniprogram/utils/bytes')
    assert.equal(utf8Length('abc'), 3)
    assert.equal(utf8Length('民族团结'), 12)
    assert.equal(utf8Length('😀'), 4)
    assert.equal(utf8Length('é'), 2)
  })

  it('only drafts and failed records can be deleted, and only by the user', async () => {
    const d = outbox.saveDraft({kind: 'tip', record: tipRecord()})
    const q = outbox.submit({kind: 'tip', record: tipRecord('q')})
    fake.networkType = 'none'
    assert.throws(() => outbox.remove(q.client_id), /只能删除草稿或发送失败的记录/)
    outbox.remove(d.client_id)
    assert.equal(outbox.get(d.client_id), null)
    assert.deepEqual(fake.getStorageSync(INDEX_KEY), [q.client_id])
  })

  it('a record that was tried and may have reached the server cannot be edited', async () => {
    const d = outbox.submit({kind: 'tip', record: tipRecord()})
    server.failNext = [{fail: 'timeout'}]
    await outbox.flush()
    assert.throws(() => outbox.saveDraft({client_id: d.client_id, kind: 'tip', record: tipRecord('新')}), e => e.code === 'busy')
  })

  it('a returned record is corrected with PATCH and then resubmitted, once', async () => {
    const calls = []
    fake.handler = req => {
      calls.push(req.method + ' ' + pathOf(req))
      if (req.method === 'PATCH') return {statusCode: 200, data: {id: 9, status: 'returned'}}
      if (pathOf(req) === '/api/v1/tips/9/resubmit') return calls.length === 2 ? {fail: 'timeout'} : {statusCode: 409, data: {code: 'invalid_transition', message: '状态已变化', details: [], request_id: 'x'}}
      if (req.method === 'GET') return {statusCode: 200, data: {id: 9, status: 'submitted', status_name: '待签收'}}
      return {statusCode: 500, data: {}}
    }
    const d = outbox.submit({kind: 'tip', server_id: 9, return_note: '请补充人数', record: tipRecord()})
    await outbox.flush()
    assert.equal(outbox.get(d.client_id).state, 'queued')
    await outbox.flush({force: true})
    assert.deepEqual(calls, ['PATCH /api/v1/tips/9', 'POST /api/v1/tips/9/resubmit', 'POST /api/v1/tips/9/resubmit', 'GET /api/v1/tips/9'])
    const it = outbox.get(d.client_id)
    assert.equal(it.state, 'submitted')
    assert.equal(it.server_status, 'submitted')
  })

  // ---- urgent tips first

  it('a major or critical tip\'s text goes before older non-urgent records; each priority stays first in, first out', async () => {
    fake.networkType = 'none'
    outbox.submit({kind: 'visit', record: visitRecord('走访一')})
    outbox.submit({kind: 'tip', record: tipRecord('较大线索', 'serious')})
    outbox.submit({kind: 'tip', record: tipRecord('重大线索', 'major')})
    outbox.submit({kind: 'sentiment', record: {title: '民情', occurred_at: '2024-05-01T09:30:00+08:00', sentiment: {category: 'education', content: '上学远', urgency: 'urgent'}}})
    outbox.submit({kind: 'tip', record: tipRecord('特别重大线索', 'critical'), attachments: [{path: 'wxfile://store/c.jpg', type: 'image'}]})
    outbox.submit({kind: 'tip', record: tipRecord('一般线索', 'general')})
    await outbox.flush()
    assert.equal(fake.requests.length, 0, 'offline: nothing sent')
    fake.networkType = 'wifi'
    await outbox.flush({force: true})
    assert.deepEqual(server.posts.map(p => p.title), ['重大线索', '特别重大线索', '走访一', '较大线索', '民情', '一般线索'])
    assert.equal(server.order[6], 'UPLOAD /api/v1/uploads', 'the urgent tip\'s photo after every text')
    assert.deepEqual(server.records[1].attachments, [server.uploads[0].id])
    assert.ok(outbox.list().every(i => i.state === 'submitted'))
  })

  it('an urgent tip queued while photos are on their way goes next, before the other photos still waiting', async () => {
    const gate = deferred()
    let first = true
    fake.handler = req => {
      if (req.method === 'UPLOAD' && first) {
        first = false
        return gate.promise.then(() => server.handle(req))
      }
      return server.handle(req)
    }
    outbox.submit({kind: 'visit', record: visitRecord('一'), attachments: [{path: 'wxfile://store/1a.jpg', type: 'image'}, {path: 'wxfile://store/1b.jpg', type: 'image'}]})
    outbox.submit({kind: 'visit', record: visitRecord('二'), attachments: [{path: 'wxfile://store/2.jpg', type: 'image'}]})
    await flush(20)
    assert.deepEqual(server.posts.map(p => p.title), ['一', '二'])
    outbox.submit({kind: 'visit', record: visitRecord('三')})
    outbox.submit({kind: 'tip', record: tipRecord('重大线索', 'major'), attachments: [{path: 'wxfile://store/t.jpg', type: 'image'}]})
    gate.resolve()
    await outbox.flush()
    assert.deepEqual(server.posts.map(p => p.title), ['一', '二', '重大线索', '三'])
    assert.deepEqual(fake.uploads.map(u => u.filePath.replace('wxfile://store/', '')), ['1a.jpg', 't.jpg', '1b.jpg', '2.jpg'],
      'the photo on its way finishes; then the urgent tip\'s text and photo')
  })

  it('an urgent tip waiting out a backoff does not hold the others back, and is tried first once due', async () => {
    fake.networkType = 'none'
    const u = outbox.submit({kind: 'tip', record: tipRecord('重大线索', 'major')})
    outbox.submit({kind: 'visit', record: visitRecord('走访')})
    await outbox.flush()
    fake.networkType = 'wifi'
    server.failNext = [{statusCode: 503, data: {code: 'unavailable', message: '服务暂时不可用', details: [], request_id: 'r'}}]
    await outbox.flush()
    assert.equal(outbox.get(u.client_id).state, 'queued')
    assert.deepEqual(server.posts.map(p => p.title), ['走访'], 'a 503 on the urgent tip: the visit still went')
    outbox.submit({kind: 'visit', record: visitRecord('走访二')})
    clock = outbox.get(u.client_id).next_attempt_at
    await outbox.flush()
    assert.deepEqual(server.posts.map(p => p.title), ['走访', '重大线索', '走访二'])
  })

  // ---- a client_id for each attachment

  it('each attachment gets its own UUID client_id when it is added to a draft, kept through edits and a restart, sent with every upload of it', async () => {
    const d = outbox.saveDraft({kind: 'tip', record: tipRecord(), attachments: [
      {path: 'wxfile://store/p1.jpg', type: 'image'}, {path: 'wxfile://store/v1.aac', type: 'audio'}]})
    const stored = () => fake.getStorageSync(ITEM_PREFIX + d.client_id).attachments
    const [a1, a2] = stored().map(a => a.client_id)
    assert.match(a1, UUID_RE)
    assert.match(a2, UUID_RE)
    assert.notEqual(a1, a2)
    assert.notEqual(a1, d.client_id, 'not the record\'s client_id')
    // the form saves the draft again (without the ids) and adds a photo: the kept files keep theirs
    outbox.saveDraft({client_id: d.client_id, kind: 'tip', record: tipRecord('改'), attachments: [
      {path: 'wxfile://store/p1.jpg', type: 'image'}, {path: 'wxfile://store/v1.aac', type: 'audio'}, {path: 'wxfile://store/p2.jpg', type: 'image'}]})
    assert.deepEqual(stored().slice(0, 2).map(a => a.client_id), [a1, a2])
    const a3 = stored()[2].client_id
    assert.match(a3, UUID_RE)
    // first try: the text and the first upload go, the second upload times out
    server.failNext = [null, null, {fail: 'timeout'}]
    outbox.queue(d.client_id)
    await outbox.flush()
    assert.equal(outbox.get(d.client_id).state, 'queued')
    assert.deepEqual(stored().map(a => a.client_id), [a1, a2, a3], 'persisted unchanged')
    // the app is closed and opened again: the retry sends the same ids
    const restarted = createOutbox({client, now: () => clock, setTimer: () => null, clearTimer: () => {}})
    await restarted.init()
    restarted.stop()
    assert.equal(restarted.get(d.client_id).state, 'submitted')
    assert.deepEqual(fake.uploads.map(u => u.formData), [{client_id: a1}, {client_id: a2}, {client_id: a2}, {client_id: a3}])
    assert.deepEqual(fake.uploads.map(u => [u.name, u.filePath]).slice(2), [['file', 'wxfile://store/v1.aac'], ['file', 'wxfile://store/p2.jpg']])
  })

  it('an upload whose answer was lost is retried with the same client_id, and a server that knows it keeps one copy', async () => {
    server.uploadIds = true
    const d = outbox.submit({kind: 'tip', record: tipRecord(), attachments: [{path: 'wxfile://store/p1.jpg', type: 'image'}]})
    // the text goes; the server stores the photo, the answer never reaches the phone
    server.failNext = [null, req => { server.failNext = []; server.handle(req); server.order.pop(); return {fail: 'interrupted'} }]
    await outbox.flush()
    assert.equal(outbox.get(d.client_id).state, 'queued')
    assert.equal(outbox.get(d.client_id).attachments[0].upload_id, null)
    await outbox.flush({force: true})
    assert.equal(outbox.get(d.client_id).state, 'submitted')
    assert.equal(server.uploads.length, 1, 'stored once')
    assert.equal(fake.uploads.length, 2)
    assert.equal(fake.uploads[0].formData.client_id, fake.uploads[1].formData.client_id)
    assert.deepEqual(server.posts[0].attachment_client_ids, [fake.uploads[0].formData.client_id])
    assert.deepEqual(server.records[0].attachments, [server.uploads[0].id], 'attached once')
  })

  it('a draft kept before attachments had client_ids gets one when its text goes, and keeps it for the uploads', async () => {
    const d = outbox.saveDraft({kind: 'tip', record: tipRecord(), attachments: [{path: 'wxfile://store/old.jpg', type: 'image'}]})
    const raw = fake.getStorageSync(ITEM_PREFIX + d.client_id)
    delete raw.attachments[0].client_id
    fake.setStorageSync(ITEM_PREFIX + d.client_id, raw)
    server.failNext = [null, {fail: 'timeout'}]
    outbox.queue(d.client_id)
    await outbox.flush()
    const cid = fake.getStorageSync(ITEM_PREFIX + d.client_id).attachments[0].client_id
    assert.match(cid, UUID_RE)
    assert.deepEqual(server.posts[0].attachment_client_ids, [cid])
    assert.equal(fake.uploads[0].formData.client_id, cid)
    await outbox.flush({force: true})
    assert.equal(fake.uploads[1].formData.client_id, cid)
    assert.equal(outbox.get(d.client_id).state, 'submitted')
  })

  // ---- uploads the server swept (uploads.orphan_after) before the record came

  it('a draft whose files an older version uploaded before its record, swept while it waited, declares them and uploads them again', async () => {
    server.uploadIds = true
    const d = outbox.saveDraft({kind: 'tip', record: tipRecord(), attachments: [
      {path: 'wxfile://store/p1.jpg', type: 'image'}, {path: 'wxfile://store/v1.aac', type: 'audio'}]})
    // As the older version left it: both files uploaded, the record not yet sent.
    const raw = fake.getStorageSync(ITEM_PREFIX + d.client_id)
    raw.attachments.forEach((a, i) => { a.upload_id = 900 + i })
    fake.setStorageSync(ITEM_PREFIX + d.client_id, raw)
    const ids = raw.attachments.map(a => a.client_id)
    outbox.queue(d.client_id)
    await outbox.flush()
    const it = outbox.get(d.client_id)
    assert.equal(it.state, 'submitted', 'not failed: ' + JSON.stringify(it.error))
    assert.deepEqual(server.order, ['POST /api/v1/tips', 'POST /api/v1/tips', 'UPLOAD /api/v1/uploads', 'UPLOAD /api/v1/uploads'],
      'refused once (the uploads are gone), sent again at once with the files declared, then the files')
    assert.deepEqual(server.posts.map(p => [p.attachments, p.attachment_client_ids]), [[[900, 901], undefined], [[], ids]])
    assert.deepEqual(fake.uploads.map(u => [u.filePath, u.formData.client_id]), [['wxfile://store/p1.jpg', ids[0]], ['wxfile://store/v1.aac', ids[1]]])
    assert.equal(server.records.length, 1)
    assert.deepEqual(server.records[0].attachments, server.uploads.map(u => u.id), 'the record has the new uploads')
    assert.deepEqual(it.attachments.map(a => [a.upload_id, a.client_id]), server.uploads.map((u, i) => [u.id, ids[i]]))
  })

  it('files uploaded before the refused send go up again (one swept: new upload; one kept: its id back, 200); a file uploaded in that send does not', async () => {
    server.uploadIds = true
    const d = outbox.submit({kind: TASK_REPORT, task_id: 12, record: {text: '已走访', done: false}, attachments: [
      {path: 'wxfile://store/r1.jpg', type: 'image'}, {path: 'wxfile://store/r2.jpg', type: 'image'}, {path: 'wxfile://store/r3.jpg', type: 'image'}]})
    server.failNext = [null, null, {fail: 'timeout'}] // two photos go up, the third times out
    await outbox.flush()
    const [u1, u2] = server.uploads
    server.uploads = [u2] // the sweep took the first upload only
    const statuses = []
    fake.handler = req => {
      const res = server.handle(req)
      if (req.method === 'UPLOAD') statuses.push(res.statusCode)
      return res
    }
    await outbox.flush({force: true})
    assert.equal(outbox.get(d.client_id).state, 'submitted')
    assert.deepEqual(fake.uploads.map(u => u.filePath.replace('wxfile://store/', '')), ['r1.jpg', 'r2.jpg', 'r3.jpg', 'r3.jpg', 'r1.jpg', 'r2.jpg'],
      'r3, uploaded in the refused send, is not sent again')
    assert.deepEqual(statuses, [201, 201, 200], 'r3 new; r1 new after the sweep; r2 known by its client_id')
    assert.equal(server.reports.length, 1)
    const sent = server.reports[0].attachments
    assert.equal(sent.indexOf(u1.id), -1, 'not the swept upload')
    assert.equal(sent[1], u2.id, 'the kept upload, by its client_id')
    assert.deepEqual(sent.slice().sort(), server.uploads.map(u => u.id).sort())
  })

  it('refused the same way again right after uploading afresh: failed with the server\'s message, files and client_ids kept, no automatic retry', async () => {
    server.uploadIds = true
    const d = outbox.submit({kind: TASK_REPORT, task_id: 12, record: {text: '已走访', done: false}, attachments: [{path: 'wxfile://store/p1.jpg', type: 'image'}]})
    server.failNext = [null, {fail: 'timeout'}]
    await outbox.flush()
    const cid = fake.getStorageSync(ITEM_PREFIX + d.client_id).attachments[0].client_id
    server.sweep()
    // this server refuses the record's attachments whatever they are
    const refusal = {statusCode: 400, data: {code: 'invalid_argument', message: '提交的内容有误:附件不存在或不是您上传的',
      details: [{field: 'attachments', message: '附件不存在或不是您上传的'}], request_id: 'again'}}
    fake.handler = req => (req.method === 'POST' ? (server.order.push('POST ' + pathOf(req)), refusal) : server.handle(req))
    await outbox.flush({force: true})
    let it = outbox.get(d.client_id)
    assert.equal(it.state, 'failed')
    assert.equal(it.error.message, '提交的内容有误:附件不存在或不是您上传的')
    assert.deepEqual(it.error.details, [{field: 'attachments', message: '附件不存在或不是您上传的'}])
    assert.equal(it.error.request_id, 'again')
    assert.equal(fake.uploads.length, 2, 'uploaded again once, not more')
    assert.equal(fake.requests.filter(r => pathOf(r) === '/api/v1/tasks/12/reports').length, 3)
    assert.deepEqual([it.attachments[0].path, it.attachments[0].client_id], ['wxfile://store/p1.jpg', cid])
    assert.equal(timers.length, 0, 'no automatic retry')
    await outbox.flush({force: true})
    assert.equal(fake.requests.length, 5, 'the network coming back does not resend it')
    it = outbox.get(d.client_id)
    assert.equal(it.state, 'failed')
  })

  it('a refusal on attachments right after fresh uploads, or naming files already on the server, fails at once', async () => {
    const refusal = field => ({statusCode: 400, data: {code: 'invalid_argument', message: '提交的内容有误:附件已用于其他记录,请重新上传',
      details: [{field, message: '附件已用于其他记录,请重新上传'}], request_id: 'r'}})
    const d = outbox.submit({kind: TASK_REPORT, task_id: 12, record: {text: '已走访', done: false}, attachments: [{path: 'wxfile://store/p1.jpg', type: 'image'}]})
    server.failNext = [null, refusal('attachments[0]')]
    await outbox.flush()
    assert.equal(outbox.get(d.client_id).state, 'failed')
    assert.equal(fake.uploads.length, 1)
    // a returned record whose photo is on the server (no file on the phone): nothing to upload again
    const calls = []
    fake.handler = req => {
      calls.push(req.method + ' ' + pathOf(req))
      return refusal('attachments')
    }
    const r = outbox.submit({kind: 'tip', server_id: 9, record: tipRecord(), attachments: [{path: '', type: 'image', upload_id: 77}]})
    await outbox.flush()
    assert.equal(outbox.get(r.client_id).state, 'failed')
    assert.deepEqual(calls, ['PATCH /api/v1/tips/9'])
  })

  // ---- task reports

  it('carries a task report: kept on the phone, photos uploaded first, then the report with its client_id, stored once after a lost answer', async () => {
    fake.networkType = 'none'
    const d = outbox.submit({kind: TASK_REPORT, task_id: 12, task_title: '排查矛盾纠纷', record: {text: '已走访三个村', done: true},
      attachments: [{path: 'wxfile://store/r1.jpg', type: 'image'}]})
    assert.equal(d.kind_label, '任务反馈')
    await outbox.flush()
    const kept = fake.getStorageSync(ITEM_PREFIX + d.client_id)
    assert.deepEqual([kept.state, kept.task_id, kept.record.text, kept.attachments[0].path], ['queued', 12, '已走访三个村', 'wxfile://store/r1.jpg'])
    fake.networkType = 'wifi'
    server.failNext = [null, req => { server.failNext = []; server.handle(req); server.order.pop(); return {fail: 'interrupted'} }]
    await outbox.flush({force: true})
    assert.equal(outbox.get(d.client_id).state, 'queued')
    await outbox.flush({force: true})
    assert.equal(outbox.get(d.client_id).state, 'submitted')
    assert.deepEqual(server.posts[0], {client_id: d.client_id, text: '已走访三个村', done: true, attachments: [server.uploads[0].id]})
    assert.deepEqual(server.posts[1], server.posts[0], 'the retry is the same request')
    assert.equal(server.reports.length, 1)
    assert.equal(server.uploads.length, 1)
    assert.equal(outbox.get(d.client_id).server_id, server.reports[0].id)
  })

  it('a task report the server refuses stops with its reason; the checks of the form hold in the outbox too', async () => {
    server.failNext = [{statusCode: 404, data: {code: 'task_not_found', message: '任务不存在', details: [], request_id: 't'}}]
    const d = outbox.submit({kind: TASK_REPORT, task_id: 12, record: {text: '进展', done: false}})
    await outbox.flush()
    const it = outbox.get(d.client_id)
    assert.equal(it.state, 'failed')
    assert.equal(it.error.message, '任务不存在')
    await outbox.flush({force: true})
    assert.equal(server.order.length, 1, 'not sent again by itself')
    assert.throws(() => outbox.submit({kind: TASK_REPORT, task_id: 12, record: {text: '  ', done: false}}), /请填写进展情况/)
    assert.throws(() => outbox.submit({kind: TASK_REPORT, task_id: 12, record: {text: '字'.repeat(2001)}}), /最多2000个字/)
    assert.throws(() => outbox.submit({kind: TASK_REPORT, record: {text: '进展'}}), /任务不存在/)
  })

  it('tells subscribers about every state change', async () => {
    const seen = []
    outbox.subscribe(items => seen.push(items.map(i => i.state).join(',')))
    outbox.submit({kind: 'tip', record: tipRecord()})
    await outbox.flush()
    assert.ok(seen.includes('draft'))
    assert.ok(seen.includes('queued'))
    assert.ok(seen.includes('sending'))
    assert.equal(seen[seen.length - 1], 'submitted')
  })
})

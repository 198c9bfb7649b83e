'use strict'
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {createFakeWx, deferred, flush, pathOf} = require('./helpers/fake-wx')
const {createClient, ApiError, NETWORK_MESSAGE, SESSION_KEY} = require('../miniprogram/api/client')

const BASE = 'https://api.test'

function tokens(n) {
  return {access_token: 'A' + n, refresh_token: 'R' + n, token_type: 'Bearer', expires_in: 3600,
    user: {id: 7, role: 'instructor', display_name: '阿依古丽'}}
}

describe('api client', () => {
  let fake
  let client
  beforeEach(() => {
    fake = createFakeWx()
    global.wx = fake
    client = createClient({baseURL: BASE, requestTimeout: 5000})
  })
  afterEach(() => {
    delete global.wx
  })

  it('sends the bearer token, JSON body and a request id, and returns the parsed body', async () => {
    client.setSession(tokens(1))
    fake.handler = () => ({statusCode: 201, data: {id: 5}})
    const out = await client.post('/api/v1/units', {name: '大厂镇'})
    assert.deepEqual(out, {id: 5})
    const req = fake.requests[0]
    assert.equal(req.url, BASE + '/api/v1/units')
    assert.equal(req.method, 'POST')
    assert.equal(req.header.Authorization, 'Bearer A1')
    assert.equal(req.header['Content-Type'], 'application/json')
    assert.match(req.header['X-Request-ID'], /^[A-Za-z0-9._-]{8,64}$/)
    assert.equal(req.timeout, 5000)
  })

  it('encodes query parameters and skips empty ones', async () => {
    client.setSession(tokens(1))
    await client.get('/api/v1/records', {kind: 'tip', cursor: '', q: '大厂 回族'})
    assert.equal(fake.requests[0].url, BASE + '/api/v1/records?kind=tip&q=' + encodeURIComponent('大厂 回族'))
  })

  it('persists the session in storage and reads it back in a new client', async () => {
    client.setSession(tokens(1))
    assert.equal(fake.getStorageSync(SESSION_KEY).access_token, 'A1')
    const again = createClient({baseURL: BASE})
    assert.equal(again.isLoggedIn(), true)
    assert.equal(again.user().display_name, '阿依古丽')
  })

  it('refreshes once for many concurrent 401s and retries each request exactly once', async () => {
    client.setSession(tokens(1))
    const refreshGate = deferred()
    let refreshes = 0
    fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/auth/refresh') {
        refreshes++
        assert.deepEqual(req.data, {refresh_token: 'R1'})
        return refreshGate.promise.then(() => ({statusCode: 200, data: tokens(2)}))
      }
      if (req.header.Authorization === 'Bearer A1') {
        return {statusCode: 401, data: {code: 'token_invalid', message: '登录已过期', details: [], request_id: 'r1'}}
      }
      return {statusCode: 200, data: {path: p}}
    }
    const calls = [1, 2, 3, 4, 5].map(i => client.get('/api/v1/item/' + i))
    await flush(10)
    refreshGate.resolve()
    const results = await Promise.all(calls)
    assert.equal(refreshes, 1)
    assert.deepEqual(results.map(r => r.path), [1, 2, 3, 4, 5].map(i => '/api/v1/item/' + i))
    for (let i = 1; i <= 5; i++) {
      const sent = fake.requests.filter(r => pathOf(r) === '/api/v1/item/' + i)
      assert.deepEqual(sent.map(r => r.header.Authorization), ['Bearer A1', 'Bearer A2'], 'item ' + i)
    }
    assert.equal(client.session().refresh_token, 'R2')
    assert.equal(fake.getStorageSync(SESSION_KEY).access_token, 'A2')
  })

  it('a request that gets 401 after another request already refreshed uses the new token without refreshing', async () => {
    client.setSession(tokens(1))
    let refreshes = 0
    const slow = deferred()
    fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/auth/refresh') {
        refreshes++
        return {statusCode: 200, data: tokens(2)}
      }
      if (p === '/api/v1/slow' && req.header.Authorization === 'Bearer A1') return slow.promise.then(() => ({statusCode: 401, data: {code: 'token_invalid', message: 'x'}}))
      if (req.header.Authorization === 'Bearer A1') return {statusCode: 401, data: {code: 'token_invalid', message: 'x'}}
      return {statusCode: 200, data: {ok: p}}
    }
    const slowCall = client.get('/api/v1/slow')
    await flush(5)
    const fast = await client.get('/api/v1/fast')
    assert.deepEqual(fast, {ok: '/api/v1/fast'})
    slow.resolve()
    await slowCall // its first answer is a 401...
    assert.equal(refreshes, 1) // ...but it did not refresh again
    const slowSent = fake.requests.filter(r => pathOf(r) === '/api/v1/slow')
    assert.deepEqual(slowSent.map(r => r.header.Authorization), ['Bearer A1', 'Bearer A2'])
  })

  it('retries only once: a second 401 with a fresh token ends the session', async () => {
    client.setSession(tokens(1))
    let expired = 0
    client.onSessionExpired(() => expired++)
    let refreshes = 0
    fake.handler = req => {
      if (pathOf(req) === '/api/v1/auth/refresh') {
        refreshes++
        return {statusCode: 200, data: tokens(2)}
      }
      return {statusCode: 401, data: {code: 'token_invalid', message: '登录已过期', details: [], request_id: 'x'}}
    }
    await assert.rejects(client.get('/api/v1/me'), e => e.code === 'session_expired' && e.message === '登录已失效,请重新登录')
    assert.equal(refreshes, 1)
    assert.equal(fake.requests.filter(r => pathOf(r) === '/api/v1/me').length, 2)
    assert.equal(expired, 1)
    assert.equal(client.isLoggedIn(), false)
  })

  it('a refused refresh clears the session, signals re-login once and fails every waiting request', async () => {
    client.setSession(tokens(1))
    let expired = 0
    client.onSessionExpired(() => expired++)
    fake.handler = req => {
      if (pathOf(req) === '/api/v1/auth/refresh') {
        return {statusCode: 401, data: {code: 'refresh_reused', message: '登录凭证已失效,请重新登录', details: [], request_id: 'x'}}
      }
      return {statusCode: 401, data: {code: 'token_invalid', message: 'x', details: [], request_id: 'y'}}
    }
    const results = await Promise.allSettled([client.get('/a'), client.get('/b'), client.get('/c')])
    assert.deepEqual(results.map(r => r.status), ['rejected', 'rejected', 'rejected'])
    results.forEach(r => assert.equal(r.reason.code, 'session_expired'))
    assert.equal(fake.requests.filter(r => pathOf(r) === '/api/v1/auth/refresh').length, 1)
    assert.equal(expired, 1)
    assert.equal(fake.getStorageSync(SESSION_KEY), '')
  })

  it('a refresh lost to the network keeps the session and reports a network error', async () => {
    client.setSession(tokens(1))
    let expired = 0
    client.onSessionExpired(() => expired++)
    fake.handler = req => (pathOf(req) === '/api/v1/auth/refresh' ? {fail: 'timeout'} : {statusCode: 401, data: {code: 'token_invalid', message: 'x'}})
    await assert.rejects(client.get('/api/v1/me'), e => e.code === 'timeout' && e.retryable && e.message === NETWORK_MESSAGE)
    assert.equal(expired, 0)
    assert.equal(client.isLoggedIn(), true)
  })

  it('refreshes before sending when the stored access token has run out', async () => {
    let t = 1000000
    client = createClient({baseURL: BASE, now: () => t})
    client.setSession(tokens(1))
    t += 3600 * 1000
    fake.handler = req => (pathOf(req) === '/api/v1/auth/refresh' ? {statusCode: 200, data: tokens(2)} : {statusCode: 200, data: {ok: 1}})
    await client.get('/api/v1/me')
    assert.deepEqual(fake.requests.map(pathOf), ['/api/v1/auth/refresh', '/api/v1/me'])
    assert.equal(fake.requests[1].header.Authorization, 'Bearer A2')
  })

  it("turns the server's error format into its Chinese message with field details", async () => {
    client.setSession(tokens(1))
    fake.handler = () => ({statusCode: 400, header: {'X-Request-ID': 'req-123'}, data: {
      code: 'invalid_argument', message: '提交的内容有误:手机号格式不正确', request_id: 'req-123',
      details: [{field: 'phone', message: '手机号格式不正确'}, {field: 'tip.level', message: '请选择风险等级'}]}})
    const err = await client.post('/api/v1/tips', {}).catch(e => e)
    assert.ok(err instanceof ApiError)
    assert.equal(err.status, 400)
    assert.equal(err.code, 'invalid_argument')
    assert.equal(err.message, '提交的内容有误:手机号格式不正确')
    assert.equal(err.requestId, 'req-123')
    assert.equal(err.details.length, 2)
    assert.equal(err.refused, true)
    assert.equal(err.retryable, false)
    assert.equal(err.fullMessage, '提交的内容有误:手机号格式不正确(请选择风险等级)')
  })

  it('maps network failures and timeouts to the network message, retryable', async () => {
    client.setSession(tokens(1))
    fake.handler = () => ({fail: 'timeout'})
    const t = await client.get('/x').catch(e => e)
    assert.equal(t.code, 'timeout')
    assert.equal(t.message, '网络不给力,请稍后重试')
    assert.equal(t.retryable, true)
    fake.handler = () => ({fail: 'interrupted'})
    const n = await client.get('/x').catch(e => e)
    assert.equal(n.code, 'network')
    assert.equal(n.status, 0)
  })

  it('falls back to a message by status when the body is not the error format', async () => {
    client.setSession(tokens(1))
    fake.handler = () => ({statusCode: 502, data: '<html>Bad Gateway</html>'})
    const e502 = await client.get('/x').catch(e => e)
    assert.equal(e502.message, '服务暂时不可用,请稍后重试')
    assert.equal(e502.retryable, true)
    fake.handler = () => ({statusCode: 429, data: ''})
    const e429 = await client.get('/x').catch(e => e)
    assert.equal(e429.retryable, true)
    assert.equal(e429.refused, false)
    fake.handler = () => ({statusCode: 413, data: null})
    const e413 = await client.get('/x').catch(e => e)
    assert.equal(e413.message, '内容过大,请减少照片或文字后重试')
    assert.equal(e413.refused, true)
  })

  it('times out by itself when the platform never calls back', async () => {
    client = createClient({baseURL: BASE, requestTimeout: 10})
    client.setSession(tokens(1))
    const never = deferred()
    fake.handler = () => never.promise
    const err = await client.get('/x').catch(e => e)
    assert.equal(err.code, 'timeout')
    assert.equal(fake.requests[0].aborted, true)
  })

  it('keeps at most 10 requests in flight and queues the rest in order', async () => {
    client.setSession(tokens(1))
    const gates = []
    let inFlight = 0
    let maxInFlight = 0
    fake.handler = req => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      const g = deferred()
      gates.push({req, g})
      return g.promise.then(() => { inFlight--; return {statusCode: 200, data: {p: pathOf(req)}} })
    }
    const calls = Array.from({length: 25}, (_, i) => client.get('/n/' + i))
    await flush(10)
    assert.equal(fake.requests.length, 10)
    assert.equal(client.limiter.queued, 15)
    // release one at a time: each frees a slot for the next queued request, in order
    for (let i = 0; i < 25; i++) {
      await flush(5)
      gates[i].g.resolve()
    }
    const out = await Promise.all(calls)
    assert.equal(maxInFlight, 10)
    assert.deepEqual(fake.requests.map(pathOf), Array.from({length: 25}, (_, i) => '/n/' + i))
    assert.equal(out[24].p, '/n/24')
  })

  it('uploads with field name "file" and parses the string response', async () => {
    client.setSession(tokens(1))
    fake.uploadHandler = () => ({statusCode: 201, data: JSON.stringify({id: 42, kind: 'image'})})
    const up = await client.upload('wxfile://store/a.jpg')
    assert.deepEqual(up, {id: 42, kind: 'image'})
    const req = fake.uploads[0]
    assert.equal(req.url, BASE + '/api/v1/uploads')
    assert.equal(req.name, 'file')
    assert.equal(req.filePath, 'wxfile://store/a.jpg')
    assert.equal(req.header.Authorization, 'Bearer A1')
  })

  it('an upload error arrives as a string too and is mapped', async () => {
    client.setSession(tokens(1))
    fake.uploadHandler = () => ({statusCode: 415, data: JSON.stringify({code: 'unsupported_file_type', message: '文件类型不支持:请上传照片或录音', details: [], request_id: 'u'})})
    const err = await client.upload('wxfile://x.heic').catch(e => e)
    assert.equal(err.code, 'unsupported_file_type')
    assert.equal(err.message, '文件类型不支持:请上传照片或录音')
  })

  it('WeChat login: a bound user gets tokens, an unbound one a bind ticket; bind saves the session', async () => {
    fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/auth/wechat/login') {
        assert.equal(req.header.Authorization, undefined)
        return req.data.code === 'code-1' ? {statusCode: 200, data: {bind_ticket: 'T', expires_in: 900}} : {statusCode: 200, data: tokens(3)}
      }
      if (p === '/api/v1/auth/wechat/bind') {
        assert.deepEqual(req.data, {bind_ticket: 'T', invite_code: 'ABCD2345'})
        return {statusCode: 200, data: tokens(4)}
      }
      return {statusCode: 404, data: {}}
    }
    const first = await client.wechatLogin()
    assert.deepEqual(first, {bindTicket: 'T', expiresIn: 900})
    assert.equal(client.isLoggedIn(), false)
    await client.bind('T', {inviteCode: ' abcd2345 '})
    assert.equal(client.session().access_token, 'A4')
    const second = await client.wechatLogin()
    assert.equal(second.tokens.access_token, 'A3')
  })

  it('an unauthenticated call without a session fails with the re-login message without sending', async () => {
    const err = await client.get('/api/v1/me').catch(e => e)
    assert.equal(err.code, 'session_expired')
    assert.equal(fake.requests.length, 0)
  })
})

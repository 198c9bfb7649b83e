import { beforeEach, describe, expect, it, vi } from 'vitest'
import { api, logout, onSessionEnded, refresh, unwrap, ApiError } from '../src/api/client'
import { clearSession, session, setSession } from '../src/api/session'
import { apiError, fakeServer, json } from './fake'

const user = { id: 1, role: 'county_staff' as const, display_name: '县局', username: 'c', region_code: '131028000000' }
const consoleSession = (n: number) => ({ access_token: 'acc' + n, token_type: 'Bearer' as const, expires_in: 900, user })

describe('the API client', () => {
  beforeEach(() => {
    clearSession()
    setSession(consoleSession(1))
  })

  it('refreshes through the cookie once for parallel 401s, then repeats each request', async () => {
    let refreshed = 0
    const srv = fakeServer({
      'GET /api/v1/units': (c) => (c.auth === 'Bearer acc2' ? json(200, { items: [], next_cursor: '' }) : apiError(401, 'token_invalid', '登录已失效')),
      'POST /api/v1/auth/console/session': async (c) => {
        refreshed++
        // the refresh token is the HttpOnly cookie's: the page sends no body and no token of its own
        expect(c.body).toBeUndefined()
        await new Promise((r) => setTimeout(r, 5))
        return json(200, consoleSession(2))
      },
    })
    // three requests fail at once: one refresh serves them all
    const out = await Promise.all([1, 2, 3].map(() => unwrap(api.GET('/api/v1/units', { params: { query: { limit: 5 } } }))))
    expect(out).toHaveLength(3)
    expect(refreshed).toBe(1)
    expect(session.accessToken).toBe('acc2')
    const units = srv.calls.filter((c) => c.path === '/api/v1/units')
    expect(units.map((c) => c.auth)).toEqual(['Bearer acc1', 'Bearer acc1', 'Bearer acc1', 'Bearer acc2', 'Bearer acc2', 'Bearer acc2'])
    expect(units[3].query.get('limit')).toBe('5')
    // the cookie goes with the request: same-origin credentials
    const req = srv.fetch.mock.calls.map((c) => c[0] as Request).find((r) => r.url.endsWith('/api/v1/auth/console/session'))!
    expect(req.credentials).toBe('same-origin')
    expect(srv.calls.some((c) => c.path === '/api/v1/auth/refresh')).toBe(false)
  })

  it('repeats a late 401 with the token another request already refreshed, without spending the cookie again', async () => {
    let refreshed = 0
    fakeServer({
      'GET /api/v1/units': (c) => (c.auth === 'Bearer acc2' ? json(200, { items: [], next_cursor: '' }) : apiError(401, 'token_invalid', '登录已失效')),
      'GET /api/v1/instructors': async (c) => {
        if (c.auth === 'Bearer acc2') return json(200, { items: [], next_cursor: '' })
        // answered after the refresh of the other request has finished
        await new Promise((r) => setTimeout(r, 30))
        return apiError(401, 'token_invalid', '登录已失效')
      },
      'POST /api/v1/auth/console/session': () => {
        refreshed++
        return json(200, consoleSession(2))
      },
    })
    await Promise.all([unwrap(api.GET('/api/v1/units')), unwrap(api.GET('/api/v1/instructors'))])
    expect(refreshed).toBe(1)
  })

  it('ends the session when the refresh is refused, and says why in the server words', async () => {
    const ended = vi.fn()
    onSessionEnded(ended)
    fakeServer({
      'GET /api/v1/units': () => apiError(401, 'token_invalid', '登录已失效'),
      'POST /api/v1/auth/console/session': () => apiError(403, 'account_disabled', '账号已停用,请联系管理员'),
    })
    const results = await Promise.allSettled([unwrap(api.GET('/api/v1/units')), unwrap(api.GET('/api/v1/units'))])
    expect(results.every((r) => r.status === 'rejected' && (r.reason as ApiError).status === 401)).toBe(true)
    expect(session.accessToken).toBe('')
    expect(session.user).toBeNull()
    expect(session.reason).toBe('账号已停用,请联系管理员')
    expect(ended).toHaveBeenCalledOnce()
    expect(ended).toHaveBeenCalledWith('账号已停用,请联系管理员')
  })

  it('restores a session after a reload through the cookie alone', async () => {
    clearSession()
    fakeServer({ 'POST /api/v1/auth/console/session': () => json(200, consoleSession(7)) })
    expect(await refresh()).toBe(true)
    expect(session.accessToken).toBe('acc7')
    expect(session.user?.username).toBe('c')
  })

  it('logs out on the server (cookie and token) and forgets the session', async () => {
    const srv = fakeServer({ 'DELETE /api/v1/auth/console/session': () => new Response(null, { status: 204 }) })
    await logout('已退出登录')
    expect(srv.calls.map((c) => c.method + ' ' + c.path + ' ' + c.auth)).toEqual(['DELETE /api/v1/auth/console/session Bearer acc1'])
    expect((srv.fetch.mock.calls[0][0] as Request).credentials).toBe('same-origin')
    expect(session.accessToken).toBe('')
    expect(session.user).toBeNull()
    expect(session.reason).toBe('已退出登录')
    // a network failure still forgets the session
    setSession(consoleSession(3))
    globalThis.fetch = (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch
    await logout()
    expect(session.accessToken).toBe('')
  })

  it('does not refresh on a failed login', async () => {
    const srv = fakeServer({
      'POST /api/v1/auth/console/login': () => apiError(401, 'invalid_credentials', '用户名或密码错误'),
    })
    const err = await unwrap(api.POST('/api/v1/auth/console/login', { body: { username: 'a', password: 'b' } })).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.message).toBe('用户名或密码错误')
    expect(srv.calls.map((c) => c.path)).toEqual(['/api/v1/auth/console/login'])
  })

  it('turns the API error body into an ApiError with details and request id', async () => {
    fakeServer({
      'POST /api/v1/units': () => apiError(400, 'invalid_argument', '提交的内容有误:单位名称不能为空', [{ field: 'name', message: '单位名称不能为空' }], 'abc12345'),
    })
    const err = (await unwrap(api.POST('/api/v1/units', { body: { name: '', kind: 'village', region_code: '131028000000' } })).catch((e) => e)) as ApiError
    expect(err.status).toBe(400)
    expect(err.code).toBe('invalid_argument')
    expect(err.details).toEqual([{ field: 'name', message: '单位名称不能为空' }])
    expect(err.requestId).toBe('abc12345')
  })

  it('reports a network failure as status 0 with a Chinese message', async () => {
    globalThis.fetch = (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch
    const err = (await unwrap(api.GET('/api/v1/units')).catch((e) => e)) as ApiError
    expect(err.status).toBe(0)
    expect(err.message).toContain('无法连接服务器')
  })
})

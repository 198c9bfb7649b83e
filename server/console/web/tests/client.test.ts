import { beforeEach, describe, expect, it, vi } from 'vitest'
import { api, onSessionEnded, unwrap, ApiError } from '../src/api/client'
import { clearSession, session, setTokens } from '../src/api/session'
import { apiError, fakeServer, json } from './fake'

const user = { id: 1, role: 'county_staff' as const, display_name: '县局', username: 'c', region_code: '131028000000' }
const tokens = (n: number) => ({ access_token: 'acc' + n, refresh_token: 'ref' + n, token_type: 'Bearer' as const, expires_in: 900, user })

describe('the API client', () => {
  beforeEach(() => {
    clearSession()
    setTokens(tokens(1))
  })

  it('sends the access token and refreshes it once when it has expired, then repeats the request', async () => {
    let refreshed = 0
    const srv = fakeServer({
      'GET /api/v1/units': (c) => (c.auth === 'Bearer acc2' ? json(200, { items: [], next_cursor: '' }) : apiError(401, 'token_expired', '登录已过期')),
      'POST /api/v1/auth/refresh': (c) => {
        refreshed++
        expect(c.body).toEqual({ refresh_token: 'ref1' })
        return json(200, tokens(2))
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
  })

  it('ends the session when the refresh is refused, and says why', async () => {
    const ended = vi.fn()
    onSessionEnded(ended)
    fakeServer({
      'GET /api/v1/units': () => apiError(401, 'token_invalid', '登录已失效'),
      'POST /api/v1/auth/refresh': () => apiError(403, 'account_disabled', '账号已停用'),
    })
    await expect(unwrap(api.GET('/api/v1/units'))).rejects.toMatchObject({ status: 401 })
    expect(session.accessToken).toBe('')
    expect(session.user).toBeNull()
    expect(ended).toHaveBeenCalledOnce()
  })

  it('does not refresh on a failed login', async () => {
    const srv = fakeServer({
      'POST /api/v1/auth/password/login': () => apiError(401, 'invalid_credentials', '用户名或密码错误'),
    })
    const err = await unwrap(api.POST('/api/v1/auth/password/login', { body: { username: 'a', password: 'b' } })).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.message).toBe('用户名或密码错误')
    expect(srv.calls.map((c) => c.path)).toEqual(['/api/v1/auth/password/login'])
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

import createClient from 'openapi-fetch'
import type { components, paths } from './schema'
import { clearSession, session, setSession } from './session'

export type ErrorBody = components['schemas']['Error']
export type FieldError = { field: string; message: string }

// ApiError is the API's one error shape ({code, message, details, request_id}) plus the status.
export class ApiError extends Error {
  status: number
  code: string
  details: FieldError[]
  requestId: string
  // the per-row report of a rejected Excel import
  rows: { row: number; field: string; message: string }[]
  constructor(status: number, body: (Partial<ErrorBody> & { errors?: unknown }) | undefined, requestId = '') {
    super(body?.message || defaultMessage(status))
    this.status = status
    this.code = body?.code || 'http_' + status
    this.details = (body?.details as FieldError[] | undefined) ?? []
    this.requestId = body?.request_id || requestId
    this.rows = Array.isArray(body?.errors) ? (body.errors as ApiError['rows']) : []
  }
}

export function defaultMessage(status: number): string {
  switch (status) {
    case 0:
      return '无法连接服务器,请检查网络后重试'
    case 401:
      return '登录已失效,请重新登录'
    case 403:
      return '没有权限进行此操作'
    case 404:
      return '要找的内容不存在或不在您的管辖范围内'
    case 409:
      return '操作与现有数据冲突'
    case 429:
      return '操作过于频繁,请稍后再试'
    case 503:
      return '服务暂时不可用,请稍后重试'
  }
  return status >= 500 ? '服务器内部错误,请稍后重试' : '请求有误'
}

// origin is where the API is: the console is served by the API's own server.
const origin = () => globalThis.location?.origin ?? ''

const SESSION_PATH = '/api/v1/auth/console/session'

// Paths that must not trigger a refresh-and-retry when they answer 401.
const noRetry = ['/api/v1/auth/console/login', SESSION_PATH, '/api/v1/me/password']

let refreshing: Promise<boolean> | null = null
let endReason = ''
let onSessionEnd: (reason: string) => void = () => {}

// onSessionEnded registers what happens when the server ends the session (refresh refused,
// account disabled): the router sends the user to the login page.
export function onSessionEnded(fn: (reason: string) => void) {
  onSessionEnd = fn
}

// refresh asks the server for a new access token through the HttpOnly cookie (the page never
// sees the refresh token), once however many requests failed at the same time. When it is
// refused, refreshRefusal() says why in the server's words (账号已停用, 长时间未操作…).
export function refresh(fetchImpl: typeof fetch = globalThis.fetch): Promise<boolean> {
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const res = await fetchImpl(new Request(origin() + SESSION_PATH, { method: 'POST', credentials: 'same-origin' }))
        if (!res.ok) {
          let body: Partial<ErrorBody> | undefined
          try {
            body = await res.json()
          } catch {
            body = undefined
          }
          endReason = body?.message || defaultMessage(401)
          return false
        }
        setSession(await res.json())
        endReason = ''
        return true
      } catch {
        endReason = defaultMessage(0)
        return false
      } finally {
        refreshing = null
      }
    })()
  }
  return refreshing
}

export function refreshRefusal(): string {
  return endReason
}

// logout ends the login on the server (the cookie's, or the access token's when the cookie is
// gone), which also clears the cookie, and forgets the access token.
export async function logout(reason = '', fetchImpl: typeof fetch = globalThis.fetch) {
  const headers: Record<string, string> = {}
  if (session.accessToken) headers.Authorization = 'Bearer ' + session.accessToken
  try {
    await fetchImpl(new Request(origin() + SESSION_PATH, { method: 'DELETE', credentials: 'same-origin', headers }))
  } catch {
    // the page forgets the session whatever the server says; the cookie ends with the browser
  }
  clearSession(reason)
}

// authFetch adds the bearer token and, when the access token has expired, refreshes it once and
// repeats the request; if that fails the session has ended, and the user is told why.
export function makeAuthFetch(base: () => typeof fetch) {
  return async function authFetch(input: Request): Promise<Response> {
    const f = base()
    const retry = input.clone()
    const sent = session.accessToken
    if (sent) input.headers.set('Authorization', 'Bearer ' + sent)
    const res = await f(input)
    const path = new URL(input.url, 'http://x').pathname
    if (res.status !== 401 || noRetry.includes(path)) return res
    let fresh: boolean
    if (session.accessToken && session.accessToken !== sent) {
      // another request refreshed meanwhile: repeat with its token rather than spend the cookie again
      fresh = true
    } else if (sent && !session.accessToken) {
      // the session ended meanwhile (another request's refresh was refused, or logout)
      return res
    } else {
      fresh = await refresh(f)
    }
    if (fresh) {
      retry.headers.set('Authorization', 'Bearer ' + session.accessToken)
      const again = await f(retry)
      if (again.status !== 401) return again
    }
    const reason = (!fresh && refreshRefusal()) || defaultMessage(401)
    if (session.accessToken || session.user) {
      clearSession(reason)
      onSessionEnd(reason)
    }
    return res
  }
}

export const api = createClient<paths>({
  baseUrl: origin(),
  credentials: 'same-origin',
  fetch: makeAuthFetch(() => globalThis.fetch),
})

type Result<T> = { data?: T; error?: unknown; response: Response }

// unwrap turns openapi-fetch's {data, error} into the data or a thrown ApiError.
export async function unwrap<T>(p: Promise<Result<T>>): Promise<T> {
  let r: Result<T>
  try {
    r = await p
  } catch (e) {
    throw new ApiError(0, undefined)
  }
  if (r.error !== undefined || !r.response.ok) {
    const body = (typeof r.error === 'object' ? r.error : undefined) as Partial<ErrorBody> | undefined
    throw new ApiError(r.response.status, body, r.response.headers.get('X-Request-ID') ?? '')
  }
  return r.data as T
}

// download fetches a file the API produces (Excel) with the session's token and saves it.
export async function download(path: string, query: Record<string, string | undefined>, fallbackName: string) {
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v) qs.set(k, v)
  const url = origin() + path + (qs.toString() ? '?' + qs.toString() : '')
  const res = await makeAuthFetch(() => globalThis.fetch)(new Request(url, { credentials: 'same-origin' }))
  if (!res.ok) {
    let body: Partial<ErrorBody> | undefined
    try {
      body = await res.json()
    } catch {
      body = undefined
    }
    throw new ApiError(res.status, body, res.headers.get('X-Request-ID') ?? '')
  }
  const blob = await res.blob()
  const name = fileName(res.headers.get('Content-Disposition')) || fallbackName
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10000)
}

function fileName(cd: string | null): string {
  if (!cd) return ''
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd)
  if (star) return decodeURIComponent(star[1])
  const plain = /filename="?([^";]+)"?/i.exec(cd)
  return plain ? plain[1] : ''
}


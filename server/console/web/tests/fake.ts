import { vi } from 'vitest'

export type Call = { method: string; path: string; query: URLSearchParams; auth: string; body: unknown }
type Handler = (call: Call) => Response | Promise<Response>

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
}

export function apiError(status: number, code: string, message: string, details: { field: string; message: string }[] = [], requestId = 'req-test-0001') {
  return json(status, { code, message, details, request_id: requestId }, { 'X-Request-ID': requestId })
}

// fakeServer replaces fetch at the HTTP boundary: handlers are keyed "METHOD /path"; every call is
// recorded with its query, bearer token and body.
export function fakeServer(handlers: Record<string, Handler>) {
  const calls: Call[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init)
    const url = new URL(req.url)
    let body: unknown = undefined
    const text = await req.text()
    if (text) {
      try {
        body = JSON.parse(text)
      } catch {
        body = text
      }
    }
    const call: Call = { method: req.method, path: url.pathname, query: url.searchParams, auth: req.headers.get('Authorization') ?? '', body }
    calls.push(call)
    const h = handlers[req.method + ' ' + url.pathname]
    if (!h) return apiError(404, 'not_found', '接口不存在')
    return h(call)
  })
  globalThis.fetch = fetch as unknown as typeof globalThis.fetch
  return { calls, fetch }
}

export const dictionaries = {
  unit_kind: [
    { code: 'village', label: '村' },
    { code: 'school', label: '学校' },
  ],
  gender: [
    { code: 'male', label: '男' },
    { code: 'female', label: '女' },
  ],
  ethnicity: [{ code: '01', label: '汉族' }],
  source_category: [{ code: 'other', label: '其他' }],
  political_status: [],
  instructor_status: [{ code: 'active', label: '在任' }],
  role: [{ code: 'county_staff', label: '县级民族工作部门' }],
  record_kind: [],
  visit_kind: [],
  sentiment_category: [],
  urgency: [],
  tip_level: [],
  tip_kind: [],
  escalation_level: [],
  dispute_kind: [],
  mediation_outcome: [],
  party_role: [],
  visit_status: [],
  sentiment_status: [],
  tip_status: [],
  mediation_status: [],
}

export const flush = () => new Promise((r) => setTimeout(r, 0))

export async function settle(n = 10) {
  for (let i = 0; i < n; i++) await flush()
}

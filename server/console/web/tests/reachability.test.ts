// Every operation of the API contract that staff use has a page that calls it. The contract does not
// mark who an operation is for (tags are by subject; security only says "signed in" or public), so
// the test takes every operation of openapi.yaml and subtracts the ones no console page is meant to
// call, each listed below with the reason. It reads the console's source for the calls the pages
// make: through the generated client (api.GET('/api/v1/...')), file downloads (download(...)),
// and a few fetches the client cannot make (the session cookie, the tip desk's stream).
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { recordKinds, staffActions } from '../src/lib/records'

const root = path.resolve(import.meta.dirname, '..')
const contract = path.resolve(root, '../../../miniprogram-api/openapi.yaml')

// Operations no console page calls, on purpose.
const notOnAPage: Record<string, string> = {
  // ---- machines: probes and monitoring
  'GET /healthz': 'liveness probe of the load balancer',
  'GET /readyz': 'readiness probe of the load balancer',
  'GET /metrics': 'Prometheus',
  // ---- the mini-program's sign-in and session (the console signs in with the cookie routes)
  'POST /api/v1/auth/password/login': 'mini-program staff sign-in (tokens in the answer; the console uses auth/console/login)',
  'POST /api/v1/auth/refresh': 'mini-program token refresh (the console refreshes through the HttpOnly cookie)',
  'POST /api/v1/auth/logout': 'mini-program sign-out (the console ends its session with DELETE auth/console/session)',
  'POST /api/v1/auth/wechat/login': 'instructor: wx.login in the mini-program',
  'POST /api/v1/auth/wechat/bind': 'instructor: binding WeChat with an invite code',
  'POST /api/v1/me/wechat': 'staff bind their WeChat from the mini-program, where wx.login gives the code',
  // the console has the signed-in user from its session's answer (auth/console/login and
  // /session carry the same user), and keeps it current itself (the on-duty switch)
  'GET /api/v1/me': "the console's user comes with the session (auth/console/login, auth/console/session)",
  'GET /api/v1/me/summary': "instructor: the mini-program's home page",
  'GET /api/v1/me/training': 'instructor: own training in the mini-program',
  // ---- the mini-program's subscribe messages (wx.requestSubscribeMessage exists only there)
  'POST /api/v1/subscriptions': 'mini-program: records what the user accepted in wx.requestSubscribeMessage',
  'GET /api/v1/subscriptions': 'mini-program: the user’s own subscriptions',
  // ---- instructors' own work, from the phone
  'GET /api/v1/uploads/{id}': "instructor: an upload's state after a retried wx.uploadFile",
  // resumable uploads (tus) are for photos over a weak phone link; the console uploads its files
  // whole with POST /api/v1/uploads on an office network
  'POST /api/v1/uploads/resumable': 'mini-program: starts a resumable upload (tus creation)',
  'POST /api/v1/uploads/resumable/{id}': 'mini-program: a chunk, as PATCH through X-HTTP-Method-Override (wx.request has no PATCH)',
  'PATCH /api/v1/uploads/resumable/{id}': 'mini-program: a chunk (tus core)',
  'DELETE /api/v1/uploads/resumable/{id}': 'mini-program: abandons a resumable upload (tus termination)',
  'POST /api/v1/visits': 'instructor: submits from the phone',
  'POST /api/v1/sentiments': 'instructor: submits from the phone',
  'POST /api/v1/tips': 'instructor: submits from the phone',
  'POST /api/v1/mediations': 'instructor: submits from the phone',
  'POST /api/v1/suggestions': 'instructor: sends a suggestion to the county from the phone',
  'POST /api/v1/shares': 'instructor: shares their experience from the phone',
  'GET /api/v1/shares/{id}': "instructor: opens one share on the phone (the console's review list shows each share in full)",
  'GET /api/v1/suggestions/{id}': "instructor: opens the answer from its notice (the console's list shows each answer in full)",
  'GET /api/v1/adjustment-rounds/{id}': "the round's page reads the round with its progress (adjustment-rounds/{id}/progress)",
  'PATCH /api/v1/visits/{id}': "instructor: edits their own record before it is handled",
  'PATCH /api/v1/sentiments/{id}': "instructor: edits their own record before it is handled",
  'PATCH /api/v1/tips/{id}': "instructor: edits their own record before it is handled",
  'PATCH /api/v1/mediations/{id}': "instructor: edits their own record before it is handled",
  'POST /api/v1/visits/{id}/withdraw': 'instructor: withdraws their own record',
  'POST /api/v1/sentiments/{id}/withdraw': 'instructor: withdraws their own record',
  'POST /api/v1/tips/{id}/withdraw': 'instructor: withdraws their own record',
  'POST /api/v1/mediations/{id}/withdraw': 'instructor: withdraws their own record',
  'POST /api/v1/visits/{id}/resubmit': 'instructor: resubmits a returned record',
  'POST /api/v1/sentiments/{id}/resubmit': 'instructor: resubmits a returned record',
  'POST /api/v1/tips/{id}/resubmit': 'instructor: resubmits a returned record',
  'POST /api/v1/mediations/{id}/resubmit': 'instructor: resubmits a returned record',
  'POST /api/v1/meetings/{id}/rsvp': 'instructor: answers a meeting invitation',
  'POST /api/v1/meetings/{id}/checkin': "instructor: scans the projector's code or checks in by location",
  'GET /api/v1/bulletins/unread-count': "instructor: the mini-program's badge",
  'POST /api/v1/tasks/{id}/reports': 'instructor: reports progress on a task',
  // ---- all four kinds in one list: the instructor's 我的记录 in the mini-program. The console lists
  // each kind on a page of its own (records/<kind>), whose filters (level, status…) are the kind's.
  'GET /api/v1/records': "instructor: 我的记录; the console's record pages use each kind's own list",
  'GET /api/v1/records/export.xlsx': "instructor: own records as Excel; the console exports each kind from its page",
  // ---- the accounts page edits from the list's row, which has every field of the account
  'GET /api/v1/accounts/{id}': 'the accounts list rows carry the whole account; the editor starts from the row',
  // ---- file links handed out by other answers (the browser opens them as links, not through the client)
  'GET /api/v1/files/{id}': "signed download link of an attachment: the console renders the answers' url fields as links",
}

type Op = { method: string; path: string }

function operations(): Op[] {
  const doc = parse(fs.readFileSync(contract, 'utf8')) as { paths: Record<string, Record<string, unknown>> }
  const out: Op[] = []
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of ['get', 'post', 'put', 'patch', 'delete']) if (item[m]) out.push({ method: m.toUpperCase(), path: p })
  }
  return out
}

function sources(dir: string): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...sources(p))
    else if (/\.(ts|vue)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

// Paths built from a variable segment that is not a parameter of the contract (the record kind,
// the workflow action): what each can become, taken from the modules that build them.
const kindPaths = Object.keys(recordKinds) as (keyof typeof recordKinds)[]
const expansions: Record<string, string[]> = {
  '/api/v1/${kindPath.value}': kindPaths.map((k) => `/api/v1/${k}`),
  '/api/v1/${kindPath.value}/{id}': kindPaths.map((k) => `/api/v1/${k}/{id}`),
  '/api/v1/${kindPath.value}/{id}/versions': kindPaths.map((k) => `/api/v1/${k}/{id}/versions`),
  '/api/v1/${kindPath.value}/export.xlsx': kindPaths.map((k) => `/api/v1/${k}/export.xlsx`),
  '/api/v1/${pathOfKind(kind)}/{id}/${action}': kindPaths.flatMap((k) =>
    (staffActions[recordKinds[k].kind] ?? []).map((a) => `/api/v1/${k}/{id}/${a.name}`),
  ),
}

// Calls made outside the generated client and download(), each checked to be in its file.
const rawCalls: { op: string; file: string; text: string }[] = [
  // the refresh and the sign-out through the HttpOnly cookie: fetch with credentials, no token
  { op: 'POST /api/v1/auth/console/session', file: 'src/api/client.ts', text: "new Request(origin() + SESSION_PATH, { method: 'POST'" },
  { op: 'DELETE /api/v1/auth/console/session', file: 'src/api/client.ts', text: "new Request(origin() + SESSION_PATH, { method: 'DELETE'" },
  // the tip desk's live stream, read with fetch to keep the token out of the URL
  { op: 'GET /api/v1/tips/stream', file: 'src/views/TipDeskView.vue', text: "'/api/v1/tips/stream'" },
]

const STRING = String.raw`'([^'\n]*)'|"([^"\n]*)"|` + '`([^`]*)`'

// calls finds "METHOD path-template" in one file; unresolved collects what it could not read.
function calls(file: string, text: string, unresolved: string[]): { method: string; template: string }[] {
  const out: { method: string; template: string }[] = []
  const constOf = (name: string): string | undefined => {
    const m = new RegExp(String.raw`const\s+${name}\s*=\s*(?:${STRING})`).exec(text)
    return m ? (m[1] ?? m[2] ?? m[3]) : undefined
  }
  const arg = (rest: string): string | undefined => {
    const lit = new RegExp('^\\s*(?:' + STRING + ')').exec(rest)
    if (lit) return lit[1] ?? lit[2] ?? lit[3]
    const id = /^\s*([A-Za-z_$][\w$]*)\s*[,)]/.exec(rest)
    return id ? constOf(id[1]) : undefined
  }
  for (const m of text.matchAll(/\bapi\.(GET|POST|PUT|PATCH|DELETE)\(/g)) {
    const t = arg(text.slice(m.index! + m[0].length))
    if (t) out.push({ method: m[1], template: t })
    else unresolved.push(`${file}: api.${m[1]}(${text.slice(m.index! + m[0].length, m.index! + m[0].length + 40)}…`)
  }
  for (const m of text.matchAll(/(?<!function\s+)\bdownload\(/g)) {
    const rest = text.slice(m.index! + m[0].length)
    const t = arg(rest)
    if (t) out.push({ method: 'GET', template: t })
    else if (!/^\s*path\s*,/.test(rest)) unresolved.push(`${file}: download(${rest.slice(0, 40)}…`)
  }
  // a page's own wrapper around download() names the file's address as its first argument
  for (const m of text.matchAll(new RegExp(String.raw`\b\w+\((?:'(/api/v1/[^']*\.xlsx)')`, 'g'))) {
    if (!/download\($/.test(text.slice(0, m.index! + m[0].indexOf('(') + 1))) out.push({ method: 'GET', template: m[1] })
  }
  return out
}

// resolve turns a path template of the source into the contract's paths it can be.
function resolve(template: string, ops: Op[]): string[] | undefined {
  const t = template.replace(/\?.*$/, '')
  if (!t.includes('${')) return [t]
  if (expansions[t]) return expansions[t]
  // `${…}` standing for a parameter of the contract (`/api/v1/filings/${id.value}/export.xlsx`)
  const segs = t.split('/')
  const hits = ops
    .map((o) => o.path)
    .filter((p, i, all) => all.indexOf(p) === i)
    .filter((p) => {
      const ps = p.split('/')
      return ps.length === segs.length && segs.every((s, i) => (s.startsWith('${') && s.endsWith('}') ? /^\{\w+\}$/.test(ps[i]) : s === ps[i]))
    })
  return hits.length ? hits : undefined
}

function reached(ops: Op[]) {
  const called = new Set<string>()
  const unresolved: string[] = []
  const where = new Map<string, string>()
  for (const file of sources(path.join(root, 'src'))) {
    const rel = path.relative(root, file)
    const text = fs.readFileSync(file, 'utf8')
    for (const c of calls(rel, text, unresolved)) {
      const paths = resolve(c.template, ops)
      if (!paths) {
        unresolved.push(`${rel}: ${c.method} ${c.template}`)
        continue
      }
      for (const p of paths) {
        called.add(`${c.method} ${p}`)
        where.set(`${c.method} ${p}`, rel)
      }
    }
  }
  return { called, unresolved, where }
}

describe('every staff operation of the contract is reachable from a page', () => {
  const ops = operations()
  const keys = new Set(ops.map((o) => `${o.method} ${o.path}`))
  const { called, unresolved } = reached(ops)

  it('reads the contract and the pages', () => {
    expect(ops.length).toBeGreaterThan(100)
    expect(called.size).toBeGreaterThan(80)
    // a call the scan cannot read would be missed silently: give it an expansion or a rawCalls entry
    expect(unresolved).toEqual([])
  })

  it('calls outside the generated client are where they are said to be', () => {
    for (const r of rawCalls) {
      expect(keys.has(r.op), r.op + ' is not in the contract').toBe(true)
      expect(fs.readFileSync(path.join(root, r.file), 'utf8'), `${r.op} in ${r.file}`).toContain(r.text)
    }
  })

  it('no page calls what the contract does not have', () => {
    const unknown = [...called].filter((k) => !keys.has(k) && !expansionOnly(k))
    expect(unknown).toEqual([])
  })

  it('every operation not on the allow-list is called by a page', () => {
    for (const r of rawCalls) called.add(r.op)
    const missing = [...keys].filter((k) => !called.has(k) && !(k in notOnAPage)).sort()
    expect(missing, 'operations of the contract that no console page calls').toEqual([])
  })

  it('the allow-list names operations of the contract that no page calls', () => {
    const stale = Object.keys(notOnAPage).filter((k) => !keys.has(k) || called.has(k))
    expect(stale, 'allow-listed but not in the contract, or called by a page after all').toEqual([])
  })

  it('finds a call that is there and misses one that is not', () => {
    const none: string[] = []
    const found = calls('x.vue', "await unwrap(api.PATCH('/api/v1/units/{id}', { params: { path: { id } } }))", none)
    expect(found).toEqual([{ method: 'PATCH', template: '/api/v1/units/{id}' }])
    expect(calls('y.vue', "const t = '/api/v1/units/{id}' // a comment naming a path is no call", none)).toEqual([])
    expect(resolve('/api/v1/filings/${id.value}/export.xlsx', ops)).toEqual(['/api/v1/filings/{id}/export.xlsx'])
    expect(resolve('/api/v1/${whatever}/{id}', ops)).toBeUndefined()
  })
})

// expansionOnly: the record expansions list every kind's staff actions; a (kind, action) the
// contract lacks is not a call the page can make (the page offers each kind its own actions).
function expansionOnly(key: string): boolean {
  return Object.values(expansions).some((list) => list.some((p) => key.endsWith(' ' + p)))
}

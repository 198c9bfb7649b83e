import { describe, expect, it, vi } from 'vitest'
import { parseBlock, TipStream, type TipEvent } from '../src/lib/tipstream'

// A stream the test writes into: frames of server-sent events, then an end or a network error.
function controlled() {
  let ctl!: ReadableStreamDefaultController<Uint8Array>
  const body = new ReadableStream<Uint8Array>({ start: (c) => (ctl = c) })
  const enc = new TextEncoder()
  return {
    res: new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } }),
    send: (s: string) => ctl.enqueue(enc.encode(s)),
    end: () => ctl.close(),
    drop: () => ctl.error(new TypeError('network error')),
  }
}

const ready = (last: number, live = true) => `retry: 3000\nevent: ready\ndata: {"last_id":${last},"live":${live}}\n\n`
const tip = (id: number, tipId: number, kind = 'tip.submitted') => `id: ${id}\nevent: tip\ndata: {"id":${id},"tip_id":${tipId},"kind":"${kind}"}\n\n`
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5))
  expect(cond()).toBe(true)
}

function harness(token = () => 'acc1', refresh = async () => true) {
  const conns: { headers: Record<string, string>; s: ReturnType<typeof controlled> }[] = []
  const statuses: number[] = []
  const fetch = vi.fn(async (_url: string, init: RequestInit) => {
    const status = statuses.shift() ?? 200
    if (status !== 200) return new Response('{}', { status })
    const s = controlled()
    conns.push({ headers: init.headers as Record<string, string>, s })
    return s.res
  })
  const events: TipEvent[] = []
  const readies: { lastId: number; resumed: boolean }[] = []
  const states: string[] = []
  const stream = new TipStream({
    url: 'http://x/api/v1/tips/stream',
    fetch: () => fetch as unknown as typeof globalThis.fetch,
    token,
    refresh,
    onReady: (r) => readies.push({ lastId: r.lastId, resumed: r.resumed }),
    onEvent: (e) => events.push(e),
    onState: (s) => states.push(s),
    backoff: () => 1,
    silenceMs: 100,
  })
  return { conns, statuses, fetch, events, readies, states, stream }
}

describe('the tip desk stream client', () => {
  it('parses server-sent event blocks, comments and multi-line data', () => {
    expect(parseBlock(': ping')).toBeNull()
    expect(parseBlock('id: 7\nevent: tip\ndata: {"a":1}')).toEqual({ event: 'tip', id: '7', data: '{"a":1}' })
    expect(parseBlock('data: a\ndata: b')).toEqual({ event: 'message', id: '', data: 'a\nb' })
  })

  it('after a network drop reconnects with the last id it saw and passes each event on once', async () => {
    const h = harness()
    h.stream.start()
    await until(() => h.conns.length === 1)
    expect(h.conns[0].headers.Authorization).toBe('Bearer acc1')
    expect(h.conns[0].headers['Last-Event-ID']).toBeUndefined()
    h.conns[0].s.send(ready(10))
    h.conns[0].s.send(': ping\n\n' + tip(11, 501))
    await until(() => h.events.length === 1)
    h.conns[0].s.drop()

    await until(() => h.conns.length === 2)
    expect(h.conns[1].headers['Last-Event-ID']).toBe('11')
    // the server sends what happened during the drop, the first again
    h.conns[1].s.send(ready(11) + tip(11, 501) + tip(12, 502, 'tip.acknowledged'))
    // an event split across two reads
    h.conns[1].s.send('id: 13\nevent: tip\nda')
    h.conns[1].s.send('ta: {"id":13,"tip_id":503,"kind":"tip.submitted"}\n\n')
    await until(() => h.events.length === 3)
    expect(h.events.map((e) => e.id)).toEqual([11, 12, 13])
    expect(h.events[1]).toEqual({ id: 12, tip_id: 502, kind: 'tip.acknowledged' })
    // each (re)connection makes the desk read its list again
    expect(h.readies).toEqual([
      { lastId: 10, resumed: false },
      { lastId: 11, resumed: true },
    ])
    expect(h.stream.lastId).toBe(13)
    expect(h.states).toContain('down')
    h.stream.stop()
  })

  it('starts from the server cursor, and resumes from it even when nothing came before the drop', async () => {
    const h = harness()
    h.stream.start()
    await until(() => h.conns.length === 1)
    h.conns[0].s.send(ready(42))
    await until(() => h.readies.length === 1)
    h.conns[0].s.end() // the server ends streams after a while
    await until(() => h.conns.length === 2)
    expect(h.conns[1].headers['Last-Event-ID']).toBe('42')
    h.stream.stop()
  })

  it('takes a silent stream for dead and reconnects', async () => {
    const h = harness()
    h.stream.start()
    await until(() => h.conns.length === 1)
    h.conns[0].s.send(ready(5))
    // no heartbeat for longer than silenceMs (100 ms here, 45 s in the console)
    await until(() => h.conns.length === 2)
    expect(h.conns[1].headers['Last-Event-ID']).toBe('5')
    h.stream.stop()
  })

  it('refreshes an expired access token and reconnects with the new one; ends when the refresh is refused', async () => {
    let tok = 'acc1'
    const refresh = vi.fn(async () => {
      tok = 'acc2'
      return true
    })
    const h = harness(() => tok, refresh)
    h.statuses.push(401)
    h.stream.start()
    await until(() => h.conns.length === 1)
    expect(refresh).toHaveBeenCalledOnce()
    expect(h.conns[0].headers.Authorization).toBe('Bearer acc2')
    h.stream.stop()

    const ended = vi.fn()
    const g = harness(() => 'old', async () => false)
    g.statuses.push(401)
    ;(g.stream as unknown as { opts: { onEnded: () => void } }).opts.onEnded = ended
    g.stream.start()
    await until(() => ended.mock.calls.length === 1)
    await new Promise((r) => setTimeout(r, 30))
    expect(g.fetch).toHaveBeenCalledTimes(1)
  })
})

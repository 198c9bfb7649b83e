// The tip desk's live feed: GET /api/v1/tips/stream read with fetch, so the access token goes in
// the Authorization header (an EventSource cannot set headers, and a token in the URL ends up in
// logs). The stream carries event ids and tip ids only; the desk reads the tips themselves through
// the list API. After any drop the client reconnects with the last id it saw, and the server
// sends what happened meanwhile.

export type TipEvent = { id: number; tip_id: number; kind: string }
export type ReadyInfo = { lastId: number; live: boolean; resumed: boolean }
export type StreamState = 'connecting' | 'live' | 'polling' | 'down'

export type TipStreamOptions = {
  url: string
  fetch: () => typeof fetch
  token: () => string
  // refresh gets a new access token after a 401; false ends the stream (the session is over)
  refresh: () => Promise<boolean>
  onReady: (info: ReadyInfo) => void
  onEvent: (e: TipEvent) => void
  onState?: (s: StreamState) => void
  onEnded?: () => void
  // delay before reconnect attempt n (1, 2, …) after a failure
  backoff?: (attempt: number) => number
  // a stream silent this long is taken for dead (the server sends a comment every 15 s)
  silenceMs?: number
}

export const defaultBackoff = (n: number) => Math.min(30000, 1000 * 2 ** Math.min(n - 1, 5)) * (0.75 + Math.random() * 0.5)

// parseBlock reads one server-sent event (the lines between blank lines).
export function parseBlock(block: string): { event: string; id: string; data: string } | null {
  let event = 'message'
  let id = ''
  const data: string[] = []
  let any = false
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue
    const i = line.indexOf(':')
    const field = i < 0 ? line : line.slice(0, i)
    let value = i < 0 ? '' : line.slice(i + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'id') id = value
    else if (field === 'data') data.push(value)
    else continue
    any = true
  }
  return any ? { event, id, data: data.join('\n') } : null
}

export class TipStream {
  lastId = 0
  private opts: TipStreamOptions
  private stopped = false
  private abort: AbortController | null = null
  private seen = new Set<number>()
  private wakeUp: (() => void) | null = null

  constructor(opts: TipStreamOptions) {
    this.opts = opts
  }

  start() {
    this.stopped = false
    void this.loop()
  }

  stop() {
    this.stopped = true
    this.abort?.abort()
    this.wakeUp?.()
  }

  // reconnectNow skips the wait before the next attempt (the browser came back online).
  reconnectNow() {
    this.wakeUp?.()
  }

  private state(s: StreamState) {
    this.opts.onState?.(s)
  }

  private async loop() {
    let failures = 0
    while (!this.stopped) {
      this.state('connecting')
      let ok = false
      try {
        ok = await this.connect()
      } catch {
        ok = false
      }
      if (this.stopped) return
      failures = ok ? 0 : failures + 1
      this.state('down')
      // a stream the server ended in good order (its age ran out) reconnects at once
      await this.sleep(failures > 0 ? (this.opts.backoff ?? defaultBackoff)(failures) : 200)
    }
  }

  private sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms)
      function done() {
        clearTimeout(t)
        resolve()
      }
      this.wakeUp = () => {
        this.wakeUp = null
        done()
      }
    })
  }

  // connect reads one stream to its end: true when it ended in good order after it was open.
  private async connect(): Promise<boolean> {
    const ac = new AbortController()
    this.abort = ac
    const headers: Record<string, string> = { Accept: 'text/event-stream', Authorization: 'Bearer ' + this.opts.token() }
    if (this.lastId > 0) headers['Last-Event-ID'] = String(this.lastId)
    const res = await this.opts.fetch()(this.opts.url, { headers, signal: ac.signal, credentials: 'same-origin', cache: 'no-store' })
    if (res.status === 401) {
      if (await this.opts.refresh()) return true
      this.stopped = true
      this.opts.onEnded?.()
      return false
    }
    if (!res.ok || !res.body) return false
    const reader = res.body.getReader()
    const decoder = new TextDecoder()
    let buf = ''
    let opened = false
    let silence: ReturnType<typeof setTimeout> | undefined
    const watch = () => {
      clearTimeout(silence)
      silence = setTimeout(() => {
        // a half-open connection may never fail a read by itself: end it from here
        ac.abort()
        reader.cancel().catch(() => {})
      }, this.opts.silenceMs ?? 45000)
    }
    watch()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return opened
        watch()
        buf += decoder.decode(value, { stream: true })
        let cut: number
        while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
          const block = buf.slice(0, cut)
          buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '')
          const ev = parseBlock(block)
          if (!ev) continue
          if (ev.event === 'ready') {
            const d = JSON.parse(ev.data) as { last_id: number; live: boolean }
            const resumed = this.lastId > 0
            if (!resumed) this.lastId = d.last_id
            opened = true
            this.state(d.live ? 'live' : 'polling')
            this.opts.onReady({ lastId: d.last_id, live: d.live, resumed })
          } else if (ev.event === 'tip') {
            const d = JSON.parse(ev.data) as TipEvent
            // the server may send an event twice around a reconnect: once is enough
            if (this.seen.has(d.id)) continue
            this.remember(d.id)
            this.lastId = Math.max(this.lastId, d.id)
            this.opts.onEvent(d)
          }
        }
      }
    } catch {
      return false
    } finally {
      clearTimeout(silence)
      reader.cancel().catch(() => {})
    }
  }

  private remember(id: number) {
    this.seen.add(id)
    if (this.seen.size > 1000) {
      const old = [...this.seen].slice(0, 500)
      for (const x of old) this.seen.delete(x)
    }
  }
}

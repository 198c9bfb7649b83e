import { onBeforeUnmount, ref } from 'vue'
import { ApiError } from '../api/client'

export type CheckinToken = { qr_payload: string; refresh_at: string; expires_at: string }
export type Fetched = { token: CheckinToken; serverDate?: number }

// The check-in code changes every 30 seconds; the screen fetches the next one at refresh_at. The
// office PC's clock may be off by minutes: the wait is measured on the server's clock (its Date
// header) when it sends one, kept within 1 to 30 seconds, and a little after refresh_at so the
// new code is surely there.
export const MARGIN_MS = 300
export const MIN_WAIT_MS = 1000
export const MAX_WAIT_MS = 30000
export const RETRY_MS = 3000

export function nextDelay(t: CheckinToken, localNow: number, skewMs = 0): number {
  const at = Date.parse(t.refresh_at)
  if (Number.isNaN(at)) return MIN_WAIT_MS
  return Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, at - (localNow + skewMs) + MARGIN_MS))
}

// useRotatingToken keeps the current token, fetching the next one when it is due; a failed
// fetch is retried, except a refusal that will not change (the meeting was cancelled or ended,
// no permission), which stops the rotation and is shown.
export function useRotatingToken(fetchToken: () => Promise<Fetched>) {
  const token = ref<CheckinToken | null>(null)
  const error = ref<ApiError | null>(null)
  const stopped = ref(false)
  let timer: ReturnType<typeof setTimeout> | null = null

  async function tick() {
    timer = null
    if (stopped.value) return
    try {
      const r = await fetchToken()
      if (stopped.value) return
      token.value = r.token
      error.value = null
      const skew = r.serverDate ? r.serverDate - Date.now() : 0
      // a Date header has whole seconds: a skew under two seconds is noise
      schedule(nextDelay(r.token, Date.now(), Math.abs(skew) < 2000 ? 0 : skew))
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, undefined)
      error.value = err
      if ([403, 404, 409].includes(err.status)) {
        token.value = null
        stopped.value = true
        return
      }
      schedule(RETRY_MS)
    }
  }

  function schedule(ms: number) {
    if (timer) clearTimeout(timer)
    timer = setTimeout(tick, ms)
  }

  function start() {
    stopped.value = false
    return tick()
  }

  function stop() {
    stopped.value = true
    if (timer) clearTimeout(timer)
    timer = null
  }

  onBeforeUnmount(stop)
  return { token, error, stopped, start, stop }
}

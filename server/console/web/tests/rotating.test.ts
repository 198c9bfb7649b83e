import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { mount } from '@vue/test-utils'
import { ApiError } from '../src/api/client'
import { nextDelay, useRotatingToken, type Fetched } from '../src/lib/rotating'

const T0 = Date.parse('2026-12-05T14:00:10+08:00')

// token issues the code of the 30-second window holding `at`: it is replaced at the next window.
function token(at: number, n: number): Fetched['token'] {
  const start = Math.floor(at / 30000) * 30000
  return { qr_payload: `shiliu://meetings/7/checkin?token=${n}.abc`, refresh_at: new Date(start + 30000).toISOString(), expires_at: new Date(start + 60000).toISOString() }
}

function harness(fetchToken: () => Promise<Fetched>) {
  let rot!: ReturnType<typeof useRotatingToken>
  const C = defineComponent({
    setup() {
      rot = useRotatingToken(fetchToken)
      return () => h('div', rot.token.value?.qr_payload ?? '')
    },
  })
  const w = mount(C)
  return { w, rot: () => rot }
}

describe('the rotating check-in code', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(T0)
  })
  afterEach(() => vi.useRealTimers())

  it('fetches the next code just after refresh_at, not before', async () => {
    let n = 0
    const f = vi.fn(async () => ({ token: token(Date.now(), ++n) }))
    const { w, rot } = harness(f)
    await rot().start()
    expect(f).toHaveBeenCalledTimes(1)
    expect(w.text()).toContain('token=1.')
    // 14:00:10 → the window changes at 14:00:30: nothing at 14:00:29.9
    await vi.advanceTimersByTimeAsync(19900)
    expect(f).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(500)
    expect(f).toHaveBeenCalledTimes(2)
    expect(w.text()).toContain('token=2.')
    // then once every 30 seconds
    await vi.advanceTimersByTimeAsync(30000)
    expect(f).toHaveBeenCalledTimes(3)
    await vi.advanceTimersByTimeAsync(90000)
    expect(f).toHaveBeenCalledTimes(6)
    w.unmount()
    await vi.advanceTimersByTimeAsync(120000)
    expect(f).toHaveBeenCalledTimes(6)
  })

  it("waits by the server's clock when the PC's is off", async () => {
    // the PC is five minutes behind: the server says 14:05:10
    const skew = 5 * 60000
    const f = vi.fn(async () => ({ token: token(Date.now() + skew, 1), serverDate: Date.now() + skew }))
    const { w, rot } = harness(f)
    await rot().start()
    await vi.advanceTimersByTimeAsync(19900)
    expect(f).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(500)
    expect(f).toHaveBeenCalledTimes(2)
    w.unmount()
  })

  it('keeps the wait within 1 to 30 seconds whatever refresh_at says', () => {
    const t = (ms: number) => ({ qr_payload: 'x', refresh_at: new Date(T0 + ms).toISOString(), expires_at: new Date(T0 + ms + 30000).toISOString() })
    expect(nextDelay(t(-60000), T0)).toBe(1000)
    expect(nextDelay(t(10 * 60000), T0)).toBe(30000)
    expect(nextDelay(t(15000), T0)).toBe(15300)
  })

  it('retries after a network error and stops when the meeting is over', async () => {
    const f = vi
      .fn<() => Promise<Fetched>>()
      .mockRejectedValueOnce(new ApiError(0, undefined))
      .mockResolvedValueOnce({ token: token(T0, 1) })
      .mockRejectedValue(new ApiError(409, { code: 'meeting_ended', message: '例会已结束' }))
    const { w, rot } = harness(f)
    await rot().start()
    expect(rot().error.value?.status).toBe(0)
    await vi.advanceTimersByTimeAsync(3000)
    expect(f).toHaveBeenCalledTimes(2)
    expect(rot().error.value).toBeNull()
    await vi.advanceTimersByTimeAsync(30000)
    expect(f).toHaveBeenCalledTimes(3)
    expect(rot().error.value?.message).toBe('例会已结束')
    expect(rot().token.value).toBeNull()
    await vi.advanceTimersByTimeAsync(120000)
    expect(f).toHaveBeenCalledTimes(3)
    w.unmount()
  })
})

// A short two-tone alert made with WebAudio: no sound file to fetch (county networks are often
// cut off, and the CSP allows no other origin). Browsers start audio only after the user has
// interacted with the page; until then beep does nothing, which the desk says.
let ctx: AudioContext | null = null

export function audioReady(): boolean {
  return !!ctx && ctx.state === 'running'
}

// unlockAudio is called from a click or key press: the browser then lets the page play sound.
export function unlockAudio() {
  const AC = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext
  if (!AC) return
  if (!ctx) ctx = new AC()
  if (ctx.state === 'suspended') void ctx.resume()
}

export function beep() {
  if (!ctx || ctx.state !== 'running') return
  const now = ctx.currentTime
  for (const [i, freq] of [880, 1175].entries()) {
    const osc = ctx.createOscillator()
    const gain = ctx.createGain()
    osc.type = 'sine'
    osc.frequency.value = freq
    const t = now + i * 0.18
    gain.gain.setValueAtTime(0.0001, t)
    gain.gain.exponentialRampToValueAtTime(0.3, t + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.16)
    osc.connect(gain).connect(ctx.destination)
    osc.start(t)
    osc.stop(t + 0.17)
  }
}

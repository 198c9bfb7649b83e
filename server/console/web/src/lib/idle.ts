import type { Router } from 'vue-router'
import { logout } from '../api/client'
import { idleFor, IDLE_LIMIT_MS, session, touch } from '../api/session'

// startIdleWatch ends a session nobody has used for 30 minutes: the server forgets it (logout)
// and the page asks for the password again, keeping the page the officer was on. (The server
// ends a console login that has not refreshed for 30 minutes on its own too.)
export function startIdleWatch(router: Router, now: () => number = Date.now) {
  for (const ev of ['mousedown', 'keydown', 'wheel', 'touchstart']) {
    window.addEventListener(ev, () => touch(now()), { passive: true, capture: true })
  }
  window.setInterval(() => checkIdle(router, now()), 15 * 1000)
}

export async function checkIdle(router: Router, t: number) {
  if (!session.accessToken || idleFor(t) < IDLE_LIMIT_MS) return
  await logout('30 分钟未操作,请重新输入密码')
  const here = router.currentRoute.value
  await router.push({ name: 'login', query: here.name === 'login' ? {} : { redirect: here.fullPath } })
}

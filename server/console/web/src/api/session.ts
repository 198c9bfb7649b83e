import { reactive } from 'vue'
import type { components } from './schema'

export type Account = components['schemas']['Account']
export type ConsoleSession = components['schemas']['ConsoleSession']

// The access token lives in memory only. The refresh token never reaches the page: the server
// keeps it in an HttpOnly, SameSite=Strict cookie sent to the refresh and logout routes alone, so
// a reload restores the session through the cookie and a script injected into the page has
// nothing lasting to steal. Nothing goes to localStorage.
export const session = reactive({
  accessToken: '',
  user: null as Account | null,
  // why the user was sent to the login page (idle, expired, disabled), shown there
  reason: '',
})

export function setSession(s: Pick<ConsoleSession, 'access_token' | 'user'> & Partial<ConsoleSession>) {
  session.accessToken = s.access_token
  session.user = s.user
}

export function clearSession(reason = '') {
  session.accessToken = ''
  session.user = null
  session.reason = reason
}

// mustChangePassword: an initial or reset password; the API allows nothing but changing it.
export function mustChangePassword(): boolean {
  return !!session.user?.must_change_password
}

export const IDLE_LIMIT_MS = 30 * 60 * 1000
let lastActivity = Date.now()

export function touch(now = Date.now()) {
  lastActivity = now
}

export function idleFor(now = Date.now()): number {
  return now - lastActivity
}

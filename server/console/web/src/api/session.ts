import { reactive } from 'vue'
import type { components } from './schema'

export type Account = components['schemas']['Account']
export type Tokens = components['schemas']['Tokens']

// The access token lives in memory only: a reload or a new tab asks the server again (refresh),
// never localStorage, so a script injected into the page has nothing lasting to steal.
export const session = reactive({
  accessToken: '',
  user: null as Account | null,
  // why the user was sent to the login page (idle, expired, disabled), shown there
  reason: '',
})

// The refresh token, when the server hands it to the page at all, is kept out of the reactive
// state (devtools, snapshots) and never written anywhere. With the console's HttpOnly cookie the
// server keeps it out of the page entirely and this stays empty.
let refreshToken = ''

export function setTokens(t: Tokens) {
  session.accessToken = t.access_token
  session.user = t.user
  refreshToken = t.refresh_token ?? ''
}

export function currentRefreshToken(): string {
  return refreshToken
}

export function clearSession(reason = '') {
  session.accessToken = ''
  session.user = null
  session.reason = reason
  refreshToken = ''
}

export const IDLE_LIMIT_MS = 30 * 60 * 1000
let lastActivity = Date.now()

export function touch(now = Date.now()) {
  lastActivity = now
}

export function idleFor(now = Date.now()): number {
  return now - lastActivity
}

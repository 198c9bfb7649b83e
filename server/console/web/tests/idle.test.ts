import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { defineComponent, h } from 'vue'
import { checkIdle } from '../src/lib/idle'
import { clearSession, session, setSession, touch } from '../src/api/session'
import { fakeServer } from './fake'

const Blank = defineComponent({ render: () => h('div') })
const user = { id: 1, role: 'county_staff' as const, display_name: '县局', username: 'c', region_code: '131028000000' }

describe('a session left idle', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a1', token_type: 'Bearer', expires_in: 900, user })
  })

  async function router() {
    const r = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/login', name: 'login', component: Blank },
        { path: '/units', name: 'units', component: Blank },
      ],
    })
    await r.push('/units?q=x')
    return r
  }

  it('is kept for 29 minutes', async () => {
    const srv = fakeServer({})
    const r = await router()
    touch(1_000_000)
    await checkIdle(r, 1_000_000 + 29 * 60 * 1000)
    expect(session.accessToken).toBe('a1')
    expect(srv.calls).toHaveLength(0)
    expect(r.currentRoute.value.name).toBe('units')
  })

  it('ends after 30 minutes: the server forgets it and the page asks for the password, keeping the place', async () => {
    const srv = fakeServer({ 'DELETE /api/v1/auth/console/session': () => new Response(null, { status: 204 }) })
    const r = await router()
    touch(1_000_000)
    await checkIdle(r, 1_000_000 + 30 * 60 * 1000 + 1)
    expect(srv.calls.map((c) => c.method + ' ' + c.path + ' ' + c.auth)).toEqual(['DELETE /api/v1/auth/console/session Bearer a1'])
    expect(session.accessToken).toBe('')
    expect(session.reason).toContain('30 分钟未操作')
    expect(r.currentRoute.value.name).toBe('login')
    expect(r.currentRoute.value.query.redirect).toBe('/units?q=x')
  })
})

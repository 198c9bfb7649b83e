import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createMemoryHistory, createRouter } from 'vue-router'
import { defineComponent, h, type Component } from 'vue'
import { RouterView } from 'vue-router'
import BulletinDetailView from '../src/views/bulletins/BulletinDetailView.vue'
import SharesView from '../src/views/bulletins/SharesView.vue'
import { clearSession, setSession } from '../src/api/session'
import { apiError, fakeServer, json, settle } from './fake'
import type { components } from '../src/api/schema'

type Bulletin = components['schemas']['Bulletin']
type Share = components['schemas']['Share']

const Blank = defineComponent({ render: () => h('div') })

async function mountAt(page: Component, name: string, path: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/bulletins/:id(\\d+)', name: 'bulletin', component: name === 'bulletin' ? page : Blank },
      { path: '/shares', name: 'shares', component: name === 'shares' ? page : Blank },
      { path: '/instructors/:id', name: 'instructor', component: Blank },
    ],
  })
  await router.push(path)
  await router.isReady()
  const App = defineComponent({ render: () => h(RouterView) })
  const wrapper = mount(App, { global: { plugins: [ElementPlus, router] }, attachTo: document.body })
  return { wrapper, router }
}

const bulletin = (over: Partial<Bulletin> = {}): Bulletin => ({
  id: 5, title: '工作简报第3期', summary: '本月工作', body: '走访少数民族群众120户', attachments: [], status: 'published', status_name: '已发布',
  publish_at: '2026-12-01T09:00:00+08:00', published_at: '2026-12-01T09:00:00+08:00', region_code: '131028000000', region_name: '大厂回族自治县',
  scope: [{ code: '131028000000', name: '大厂回族自治县' }], read_count: 2, created_at: '2026-12-01T09:00:00+08:00', version: 1,
  versions: [{ version: 1, title: '工作简报第3期', body: '走访少数民族群众120户', note: '', at: '2026-12-01T09:00:00+08:00', current: true }],
  ...over,
})

const people = {
  'GET /api/v1/bulletins/5/receipts': () => json(200, { bulletin_id: 5, recipients: 3, read: 2, read_rate: 0.67, items: [], next_cursor: '' }),
  'GET /api/v1/bulletins/5/unread': () => json(200, { bulletin_id: 5, items: [], next_cursor: '' }),
}
const click = (cls: string) => (document.querySelector(cls) as HTMLElement).dispatchEvent(new MouseEvent('click'))
function type(sel: string, value: string) {
  const el = document.querySelector(sel) as HTMLInputElement
  el.value = value
  el.dispatchEvent(new Event('input'))
}

describe('a bulletin corrected and withdrawn', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 3, role: 'county_staff', display_name: '县局', username: 'dc', region_code: '131028000000' } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('corrects with a note, shows the API refusing an empty note beside the field, then the history', async () => {
    let current = bulletin()
    const srv = fakeServer({
      ...people,
      'GET /api/v1/bulletins/5': () => json(200, current),
      'POST /api/v1/bulletins/5/correct': (c) => {
        const b = c.body as { body: string; note: string }
        if (!b.note) return apiError(400, 'invalid_argument', '请求参数有误', [{ field: 'note', message: '更正说明不能为空' }])
        current = bulletin({
          body: b.body, version: 2, corrected_at: '2026-12-02T10:00:00+08:00', correction_note: b.note,
          versions: [
            { version: 1, title: '工作简报第3期', body: '走访少数民族群众120户', note: '', at: '2026-12-01T09:00:00+08:00', current: false },
            { version: 2, title: '工作简报第3期', body: b.body, note: b.note, at: '2026-12-02T10:00:00+08:00', current: true },
          ],
        })
        return json(200, current)
      },
    })
    const { wrapper } = await mountAt(BulletinDetailView, 'bulletin', '/bulletins/5')
    await settle(20)
    expect(document.querySelector('.bl-withdraw')).not.toBeNull()
    expect(document.querySelector('.bl-publish')).toBeNull()
    click('.bl-correct')
    await settle(10)
    type('#bl-body', '走访少数民族群众210户')
    click('.bl-submit')
    await settle(20)
    await vi.waitFor(() => expect([...document.querySelectorAll('.el-form-item__error')].map((e) => e.textContent)).toContain('更正说明不能为空'))
    type('#bl-note', '户数有误')
    click('.bl-submit')
    await settle(30)
    const posts = srv.calls.filter((c) => c.method === 'POST')
    expect(posts.at(-1)?.body).toEqual({ title: '工作简报第3期', body: '走访少数民族群众210户', note: '户数有误' })
    await vi.waitFor(() => expect(document.querySelector('.corrected-tag')?.textContent).toContain('第2版'))
    expect(document.body.textContent).toContain('更正:户数有误')
    expect(document.body.textContent).toContain('历史版本')
    wrapper.unmount()
  })

  it('withdraws with a reason and then offers neither correcting nor withdrawing', async () => {
    let current = bulletin()
    const srv = fakeServer({
      ...people,
      'GET /api/v1/bulletins/5': () => json(200, current),
      'POST /api/v1/bulletins/5/withdraw': (c) => {
        current = bulletin({ status: 'withdrawn', status_name: '已撤回', withdrawn_at: '2026-12-02T10:00:00+08:00', withdraw_reason: (c.body as { reason: string }).reason })
        return json(200, current)
      },
    })
    const { wrapper } = await mountAt(BulletinDetailView, 'bulletin', '/bulletins/5')
    await settle(20)
    click('.bl-withdraw')
    await settle(10)
    type('#bl-reason', '内容有误,重新发布')
    click('.bl-submit')
    await settle(30)
    expect(srv.calls.find((c) => c.method === 'POST')?.body).toEqual({ reason: '内容有误,重新发布' })
    await vi.waitFor(() => expect(document.querySelector('.withdrawn-note')?.textContent).toContain('内容有误,重新发布'))
    expect(document.querySelector('.bl-correct')).toBeNull()
    expect(document.querySelector('.bl-withdraw')).toBeNull()
    wrapper.unmount()
  })
})

const share = (id: number, over: Partial<Share> = {}): Share => ({
  id, title: '宣传月的做法', text: '把政策编成顺口溜', attachments: [], audience: 'county', audience_name: '本县(市、区)指导员',
  audience_code: '131028000000', audience_region: '大厂回族自治县', status: 'pending', status_name: '待审核', instructor_id: 70,
  instructor_name: '马明', unit_name: '东关村', region_code: '131028100000', region_name: '大厂镇', mine: false, can_review: true,
  created_at: '2026-12-01T09:00:00+08:00', ...over,
})

describe('the share review queue', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 3, role: 'county_staff', display_name: '县局', username: 'dc', region_code: '131028000000' } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('asks for pending shares, approves one, and rejects another only with a reason', async () => {
    const srv = fakeServer({
      'GET /api/v1/shares': () => json(200, { items: [share(1), share(2), share(3, { can_review: false, audience: 'city', audience_region: '廊坊市' })], next_cursor: '' }),
      'POST /api/v1/shares/1/approve': () => json(200, share(1, { status: 'approved', can_review: false })),
      'POST /api/v1/shares/2/reject': (c) =>
        (c.body as { reason: string }).reason
          ? json(200, share(2, { status: 'rejected', reject_reason: (c.body as { reason: string }).reason, can_review: false }))
          : apiError(400, 'invalid_argument', '请求参数有误', [{ field: 'reason', message: '未通过的原因不能为空' }]),
    })
    const { wrapper } = await mountAt(SharesView, 'shares', '/shares')
    await settle(20)
    expect(srv.calls.find((c) => c.path === '/api/v1/shares')?.query.get('status')).toBe('pending')
    expect(document.querySelectorAll('.sh-approve')).toHaveLength(2)
    expect(document.body.textContent).toContain('待廊坊市审核')
    ;(document.querySelectorAll('.sh-approve')[0] as HTMLElement).click()
    await settle(20)
    expect(srv.calls.some((c) => c.method === 'POST' && c.path === '/api/v1/shares/1/approve')).toBe(true)
    ;(document.querySelectorAll('.sh-reject')[1] as HTMLElement).click()
    await settle(10)
    click('.sh-send')
    await settle(20)
    await vi.waitFor(() => expect([...document.querySelectorAll('.el-form-item__error')].map((e) => e.textContent)).toContain('未通过的原因不能为空'))
    type('#sh-reason', '请补充具体做法')
    click('.sh-send')
    await settle(20)
    expect(srv.calls.filter((c) => c.path === '/api/v1/shares/2/reject').at(-1)?.body).toEqual({ reason: '请补充具体做法' })
    wrapper.unmount()
  })

  it('makes an approved share into a draft bulletin and opens it', async () => {
    fakeServer({
      'GET /api/v1/shares': () => json(200, { items: [share(4, { status: 'approved', status_name: '已通过', can_review: false })], next_cursor: '' }),
      'POST /api/v1/shares/4/promote': () => json(201, bulletin({ id: 9, status: 'draft', status_name: '草稿', source_share_id: 4 })),
    })
    const { wrapper, router } = await mountAt(SharesView, 'shares', '/shares?status=approved')
    await settle(20)
    click('.sh-promote')
    await settle(20)
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/bulletins/9'))
    wrapper.unmount()
  })
})

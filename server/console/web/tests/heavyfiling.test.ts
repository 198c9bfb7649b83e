import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createMemoryHistory, createRouter, RouterView } from 'vue-router'
import { defineComponent, h } from 'vue'
import UnitFormDialog from '../src/views/UnitFormDialog.vue'
import UnitsWithoutInstructorView from '../src/views/UnitsWithoutInstructorView.vue'
import FilingOverviewView from '../src/views/FilingOverviewView.vue'
import { clearSession, setSession } from '../src/api/session'
import { apiError, dictionaries, fakeServer, json, settle } from './fake'
import type { components } from '../src/api/schema'

type Unit = components['schemas']['Unit']
type Form = Record<string, unknown>
const formOf = (w: { vm: unknown }) => (w.vm as { $: { setupState: { form: Form } } }).$.setupState.form
const click = (cls: string) => (document.querySelector(cls) as HTMLElement).dispatchEvent(new MouseEvent('click'))
const T = '2026-12-01T10:00:00+08:00'
const DACHANG = '131028000000'

const unit = (over: Partial<Unit> = {}): Unit => ({
  id: 9, name: '东关村', kind: 'village', kind_name: '村', key_task: '', region_code: '131028100000', region_name: '大厂镇', address: '',
  active_instructors: 0, heavy: false, created_at: T, updated_at: T, ...over,
})

const Blank = defineComponent({ render: () => h('div') })
// The region picker asks for the officer's region and its children.
const regions = {
  'GET /api/v1/regions/131028000000': () => json(200, { code: DACHANG, parent_code: '131000000000', name: '大厂回族自治县', level: 'county', ancestors: [] }),
  'GET /api/v1/regions': () => json(200, { items: [] }),
}

async function page(component: unknown, url: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/page', name: 'page', component: component as never },
      { path: '/instructors', name: 'instructors', component: Blank },
      { path: '/filings/:id', name: 'filing', component: Blank },
    ],
  })
  await router.push(url)
  await router.isReady()
  const App = defineComponent({ render: () => h(RouterView) })
  const wrapper = mount(App, { global: { plugins: [ElementPlus, router] }, attachTo: document.body })
  await settle(30)
  return { wrapper, router }
}

beforeEach(() => {
  clearSession()
  setSession({ access_token: 'a', user: { id: 3, role: 'county_staff', display_name: '县局', username: 'dc', region_code: DACHANG } })
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('the unit form', () => {
  function open(u: Unit | null) {
    return mount(UnitFormDialog, { props: { modelValue: false, unit: u }, global: { plugins: [ElementPlus] }, attachTo: document.body })
  }

  it('flags a unit as one where ethnic work is heavy by its own request, with the reason', async () => {
    const srv = fakeServer({
      ...regions,
      'GET /api/v1/dictionaries': () => json(200, dictionaries),
      'PATCH /api/v1/units/9': () => json(200, unit()),
      'PUT /api/v1/units/9/heavy': (c) => json(200, unit({ heavy: true, heavy_reason: (c.body as { reason: string }).reason })),
    })
    const w = open(unit())
    await w.setProps({ modelValue: true })
    await settle(10)
    Object.assign(formOf(w), { heavy: true, heavy_reason: '回族群众聚居' })
    click('.unit-save')
    await settle(20)
    expect(srv.calls.filter((c) => c.method !== 'GET').map((c) => c.method + ' ' + c.path)).toEqual(['PATCH /api/v1/units/9', 'PUT /api/v1/units/9/heavy'])
    expect(srv.calls.find((c) => c.method === 'PATCH')?.body).toEqual({ name: '东关村', kind: 'village', region_code: '131028100000', address: '' })
    expect(srv.calls.find((c) => c.method === 'PUT')?.body).toEqual({ heavy: true, reason: '回族群众聚居' })
    expect((w.emitted('saved')?.[0]?.[0] as Unit).heavy).toBe(true)
    w.unmount()
  })

  it('sends no flag when it did not change, and clears it without a reason', async () => {
    const srv = fakeServer({
      ...regions,
      'GET /api/v1/dictionaries': () => json(200, dictionaries),
      'PATCH /api/v1/units/9': () => json(200, unit({ heavy: true, heavy_reason: '回族群众聚居' })),
      'PUT /api/v1/units/9/heavy': () => json(200, unit()),
    })
    const w = open(unit({ heavy: true, heavy_reason: '回族群众聚居' }))
    await w.setProps({ modelValue: true })
    await settle(10)
    Object.assign(formOf(w), { name: '东关村委会' })
    click('.unit-save')
    await settle(20)
    expect(srv.calls.filter((c) => c.method === 'PUT')).toHaveLength(0)
    await w.setProps({ modelValue: false })
    await w.setProps({ modelValue: true })
    await settle(10)
    Object.assign(formOf(w), { heavy: false })
    click('.unit-save')
    await settle(20)
    expect(srv.calls.filter((c) => c.method === 'PUT').map((c) => c.body)).toEqual([{ heavy: false, reason: '' }])
    w.unmount()
  })

  it('shows a refused reason beside it, and does not create the unit twice', async () => {
    let puts = 0
    const srv = fakeServer({
      ...regions,
      'GET /api/v1/dictionaries': () => json(200, dictionaries),
      'POST /api/v1/units': () => json(201, unit()),
      'PATCH /api/v1/units/9': () => json(200, unit()),
      'PUT /api/v1/units/9/heavy': () =>
        ++puts === 1
          ? apiError(400, 'invalid_argument', '请求参数不正确', [{ field: 'reason', message: '民族工作任务较重的原因不能为空' }])
          : json(200, unit({ heavy: true, heavy_reason: '宗教活动场所集中' })),
    })
    const w = open(null)
    await w.setProps({ modelValue: true })
    await settle(10)
    Object.assign(formOf(w), { name: '东关村', kind: 'village', region_code: '131028100000', heavy: true, heavy_reason: '' })
    await settle(5)
    click('.unit-save')
    await settle(20)
    await vi.waitFor(() => expect([...document.querySelectorAll('.el-form-item__error')].map((e) => e.textContent)).toContain('民族工作任务较重的原因不能为空'))
    expect(w.emitted('saved')).toBeUndefined()
    Object.assign(formOf(w), { heavy_reason: '宗教活动场所集中' })
    click('.unit-save')
    await settle(20)
    expect(srv.calls.filter((c) => c.method !== 'GET').map((c) => c.method + ' ' + c.path)).toEqual([
      'POST /api/v1/units', 'PUT /api/v1/units/9/heavy', 'PATCH /api/v1/units/9', 'PUT /api/v1/units/9/heavy'])
    expect(w.emitted('saved')).toHaveLength(1)
    w.unmount()
  })
})

describe('the units without instructor', () => {
  const su = (id: number, name: string, heavy: boolean) => ({
    id, name, kind: 'village', kind_name: '村', region_code: '131028100000', region_name: '大厂镇', heavy, ...(heavy ? { heavy_reason: '回族聚居' } : {}),
  })

  it('lists the units where ethnic work is heavy first, then all with the flag shown', async () => {
    const srv = fakeServer({
      ...regions,
      'GET /api/v1/stats/units-without-instructor': (c) =>
        c.query.get('heavy') === 'true'
          ? json(200, { items: [su(2, '东关村', true)], next_cursor: '' })
          : json(200, { items: [su(3, '西村', false), su(2, '东关村', true)], next_cursor: '' }),
    })
    const { wrapper } = await page(UnitsWithoutInstructorView, '/page')
    const heavy = srv.calls.find((c) => c.query.get('heavy') === 'true')!
    expect(heavy.query.get('region_code')).toBeNull()
    expect(document.querySelector('.heavy-units')?.textContent).toContain('回族聚居')
    const all = document.querySelector('.all-units')!.textContent!
    expect(all).toContain('西村')
    expect(all).toContain('重点')
    wrapper.unmount()
  })

  it('filters by the flag through the URL, without the list above', async () => {
    const srv = fakeServer({
      ...regions,
      'GET /api/v1/stats/units-without-instructor': () => json(200, { items: [su(3, '西村', false)], next_cursor: '' }),
    })
    const { wrapper } = await page(UnitsWithoutInstructorView, '/page?heavy=false&region_code=131028100000')
    const asked = srv.calls.filter((c) => c.path === '/api/v1/stats/units-without-instructor')
    expect(asked).toHaveLength(1)
    expect(asked[0].query.get('heavy')).toBe('false')
    expect(asked[0].query.get('region_code')).toBe('131028100000')
    expect(document.querySelector('.heavy-units')).toBeNull()
    wrapper.unmount()
  })
})

describe('the filing overview', () => {
  const summary = (id: number, status: string, statusName: string) => ({ id, status, status_name: statusName, instructor_count: 3, filed_at: T })
  const overview = {
    region_code: '131000000000', region_name: '廊坊市',
    items: [
      { region_code: '131000000000', region_name: '廊坊市', level: 'city', parent_code: '130000000000', state: 'current', state_name: '已备案',
        roster_changed: false, days_since_accepted: 3, latest: summary(1, 'accepted', '已接收'), latest_accepted: summary(1, 'accepted', '已接收') },
      { region_code: '131022000000', region_name: '固安县', level: 'county', parent_code: '131000000000', state: 'never', state_name: '未备案',
        roster_changed: true },
      { region_code: '131023000000', region_name: '永清县', level: 'county', parent_code: '131000000000', state: 'changed', state_name: '名册有变动未重新备案',
        roster_changed: true, days_since_accepted: 40, stale_since: T, reminded_at: T, latest: summary(2, 'accepted', '已接收'), latest_accepted: summary(2, 'accepted', '已接收') },
      { region_code: '131028000000', region_name: '大厂回族自治县', level: 'county', parent_code: '131000000000', state: 'changed', state_name: '名册有变动未重新备案',
        roster_changed: true, days_since_accepted: 90, latest: summary(3, 'accepted', '已接收'), latest_accepted: summary(3, 'accepted', '已接收') },
      { region_code: '131024000000', region_name: '香河县', level: 'county', parent_code: '131000000000', state: 'returned', state_name: '已退回',
        roster_changed: true, latest: summary(4, 'returned', '已退回') },
    ],
  }
  const rows = () => [...document.querySelectorAll('.overview-table tbody tr')].map((r) => r.querySelectorAll('td')[0]?.textContent?.trim())

  it('puts what needs doing first, the stalest first, with days and changes', async () => {
    fakeServer({ ...regions, 'GET /api/v1/filings/overview': () => json(200, overview) })
    const { wrapper } = await page(FilingOverviewView, '/page')
    expect(rows()).toEqual(['香河县', '大厂回族自治县', '永清县', '固安县', '廊坊市'])
    const yq = [...document.querySelectorAll('.overview-table tbody tr')][2].textContent!
    expect(yq).toContain('名册有变动未重新备案')
    expect(yq).toContain('40 天')
    expect(yq).toContain('发现于 2026-12-01')
    expect(yq).toContain('已提醒 2026-12-01')
    expect(document.querySelector('.state-counts')?.textContent).toContain('名册有变动未重新备案 2')
    wrapper.unmount()
  })

  it('shows only what needs doing when asked', async () => {
    fakeServer({ ...regions, 'GET /api/v1/filings/overview': () => json(200, overview) })
    const { wrapper } = await page(FilingOverviewView, '/page')
    ;(document.querySelector('.only-stale input') as HTMLInputElement).click()
    await settle(10)
    expect(rows()).not.toContain('廊坊市')
    expect(rows()).toHaveLength(4)
    wrapper.unmount()
  })
})

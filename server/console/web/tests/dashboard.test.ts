import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createMemoryHistory, createRouter } from 'vue-router'
import { defineComponent, h } from 'vue'
import { RouterView } from 'vue-router'
import DashboardView from '../src/views/stats/DashboardView.vue'
import { ackOption, minutes, onTimeRate, ranked, trendOption, type Overview, type RegionRow } from '../src/views/stats/dashboard'
import { clearSession, setSession } from '../src/api/session'
import { apiError, fakeServer, json, settle } from './fake'

const CITY = '131000000000'
const DACHANG = '131028000000'
const GUAN = '131022000000'
const T = '2026-12-05T09:00:00+08:00'

const item = (code: string, label: string, count: number) => ({ code, label, count })
const deadline = (count: number, within: number, over: number, d: number | null, median: number | null) => ({
  count, median_minutes: median, deadline_minutes: d, within_deadline: within, over_deadline: over,
})
const kinds = [item('visit', '走访日志', 0), item('sentiment', '民情报告', 0), item('tip', '风险隐患线索', 0), item('mediation', '矛盾纠纷调解记录', 0)]
const ROLES: [string, string][] = [['political_guide', '政治引领员'], ['policy_publicist', '政策宣传员'], ['activity_organizer', '活动组织员'],
  ['stability_mediator', '维稳调解员'], ['sentiment_liaison', '民情联络员']]
const TAGS: [string, string][] = [['shiliu_brand', '石榴花开'], ['study_publicity', '学习宣传'], ['brand_building', '品牌创建'],
  ['livelihood', '民生与乡村振兴'], ['special_needs', '特殊群体帮扶'], ['exchange', '交往交流交融']]
const byRole = (...n: number[]) => ROLES.map(([c, l], i) => item(c, l, n[i] ?? 0))
const byTag = (...n: number[]) => TAGS.map(([c, l], i) => item(c, l, n[i] ?? 0))

function overview(code: string, name: string, level: string): Overview {
  return {
    region: { code, name, level: level as Overview['region']['level'] }, from: '2026-10', to: '2026-12', generated_at: T,
    instructors: { total: 12, active: 10, by_status: [item('active', '在任', 10)], by_unit_kind: [item('village', '村', 7), item('school', '学校', 3)],
      by_ethnicity: [item('03', '回族', 6), item('01', '汉族', 4)], by_source_category: [item('village_committee', '村(社区)两委成员', 10)] },
    units: { total: 8, by_kind: [item('village', '村', 8)], without_instructor: 1, heavy: 3, heavy_without_instructor: 1,
      without_instructor_sample: [{ id: 5, name: '陈府镇西村', kind: 'village', kind_name: '村', region_code: '131028100000', region_name: '陈府镇', heavy: true, heavy_reason: '回族聚居' }] },
    records: { total: 9, by_kind: kinds, by_role: byRole(1, 4, 0, 3, 1), by_tag: byTag(3, 2, 0, 1, 0, 1), by_month: [
      { month: '2026-10', total: 2, by_kind: { visit: 2, sentiment: 0, tip: 0, mediation: 0 } },
      { month: '2026-11', total: 3, by_kind: { visit: 1, sentiment: 1, tip: 1, mediation: 0 } },
      { month: '2026-12', total: 4, by_kind: { visit: 1, sentiment: 0, tip: 2, mediation: 1 } },
    ] },
    tips: { total: 3, duplicates: 0, by_state: [], acknowledge: deadline(2, 1, 1, null, 40), resolve: { count: 1, median_minutes: 200 },
      by_level: [
        { code: 'general', label: '一般', count: 1, by_state: [], acknowledge: deadline(1, 0, 1, 1440, 1500), resolve: { count: 0, median_minutes: null } },
        { code: 'serious', label: '较大', count: 2, by_state: [], acknowledge: deadline(1, 1, 0, 120, 40), resolve: { count: 1, median_minutes: 200 } },
        { code: 'major', label: '重大', count: 0, by_state: [], acknowledge: deadline(0, 0, 0, 30, null), resolve: { count: 0, median_minutes: null } },
        { code: 'critical', label: '特别重大', count: 0, by_state: [], acknowledge: deadline(0, 0, 0, 15, null), resolve: { count: 0, median_minutes: null } },
      ] },
    mediations: { total: 1, by_outcome: [], settled: 1, partly_settled: 0, settlement_rate: 1, partly_settled_rate: 0 },
    meetings: { meetings: 1, invitees: 10, checked_in: 8, attendance_rate: 0.8 },
    training: { sessions: 1, attendances: 6, total_hours: 18, active_instructors: 10, average_hours: 1.8 },
    inactive_instructors: { days: 90, since: T, count: 1, sample: [{ id: 31, name: '马建国', unit_id: 5, unit_name: '陈府镇东村', region_code: '131028100000', region_name: '陈府镇', last_record_at: null }] },
  }
}

function row(code: string, name: string, level: string, records: number, perInstructor: number | null, within: number, over: number): RegionRow {
  return {
    region: { code, name, level: level as RegionRow['region']['level'] }, active_instructors: perInstructor ? Math.round(records / perInstructor) : 0,
    inactive_instructors: 0, units: 4, units_without_instructor: 1, heavy_units: 2, heavy_units_without_instructor: 1, records, records_per_instructor: perInstructor, tips: within + over,
    acknowledge: deadline(within + over, within, over, null, 30), resolve: { count: 0, median_minutes: null }, mediations: 0, settlement_rate: null,
    by_role: byRole(records, 0, 0, 0, 0), by_tag: byTag(),
  }
}

const cityTable = {
  region: { code: CITY, name: '廊坊市', level: 'city' }, from: '2026-10', to: '2026-12', generated_at: T,
  items: [row(GUAN, '固安县', 'county', 4, 2, 1, 1), row(DACHANG, '大厂回族自治县', 'county', 9, 0.9, 1, 0), row('131023000000', '永清县', 'county', 0, null, 0, 0)],
}
const countyTable = {
  region: { code: DACHANG, name: '大厂回族自治县', level: 'county' }, from: '2026-10', to: '2026-12', generated_at: T,
  items: [row('131028100000', '大厂镇', 'township', 6, 1.5, 1, 0), row('131028101000', '夏垫镇', 'township', 3, 3, 0, 0)],
}

function server() {
  return fakeServer({
    'GET /api/v1/stats/overview': (c) =>
      c.query.get('region_code') === DACHANG ? json(200, overview(DACHANG, '大厂回族自治县', 'county')) : json(200, overview(CITY, '廊坊市', 'city')),
    'GET /api/v1/stats/regions': (c) => json(200, c.query.get('region_code') === DACHANG ? countyTable : cityTable),
    'GET /api/v1/regions/131028000000': () =>
      json(200, { code: DACHANG, parent_code: CITY, name: '大厂回族自治县', level: 'county', ancestors: [
        { code: '130000000000', name: '河北省', level: 'province' }, { code: CITY, name: '廊坊市', level: 'city' }] }),
  })
}

const Blank = defineComponent({ render: () => h('div') })
// ECharts draws on a canvas jsdom does not have: the page's charts are stubs that keep their option
vi.mock('../src/lib/charts', async () => {
  const vue = await import('vue')
  return { VChart: vue.defineComponent({ name: 'ChartStub', props: { option: Object }, render: () => vue.h('div', { class: 'chart-stub' }) }) }
})

async function open(url: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/dashboard', name: 'dashboard', component: DashboardView },
      { path: '/units/without-instructor', name: 'units-empty', component: Blank },
      { path: '/stats/inactive-instructors', name: 'inactive-instructors', component: Blank },
      { path: '/instructors/:id', name: 'instructor', component: Blank },
    ],
  })
  await router.push(url)
  await router.isReady()
  const App = defineComponent({ render: () => h(RouterView) })
  const wrapper = mount(App, { global: { plugins: [ElementPlus, router] }, attachTo: document.body })
  await settle(30)
  return { wrapper, router }
}

const names = () => [...document.querySelectorAll('.rank-table tbody tr')].map((r) => r.querySelectorAll('td')[1]?.textContent?.trim())

describe('the statistics dashboard', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 3, role: 'city_staff', display_name: '廊坊市民宗局', username: 'langfang', region_code: CITY } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it("asks for the URL's period, ranks the counties, and goes down into one with a click", async () => {
    const srv = server()
    const { wrapper, router } = await open('/dashboard?from=2026-10&to=2026-12')
    const asked = srv.calls.filter((c) => c.path.startsWith('/api/v1/stats/'))
    expect(asked.map((c) => c.path).sort()).toEqual(['/api/v1/stats/overview', '/api/v1/stats/regions'])
    for (const c of asked) {
      expect(c.query.get('from')).toBe('2026-10')
      expect(c.query.get('to')).toBe('2026-12')
      expect(c.query.get('region_code')).toBeNull() // the officer's own city
    }
    expect(document.querySelector('.page-title')?.textContent).toContain('廊坊市')
    // by records per instructor, most first; a county without instructors last
    expect(names()).toEqual(['固安县', '大厂回族自治县', '永清县'])
    expect(document.body.textContent).toContain('不绘制地图')
    ;([...document.querySelectorAll('.rank-table a.drill')].find((a) => a.textContent === '大厂回族自治县') as HTMLElement).click()
    await settle(30)
    expect(router.currentRoute.value.query).toEqual({ region_code: DACHANG, from: '2026-10', to: '2026-12' })
    const again = srv.calls.filter((c) => c.path === '/api/v1/stats/regions').at(-1)!
    expect(again.query.get('region_code')).toBe(DACHANG)
    await vi.waitFor(() => expect(names()).toEqual(['夏垫镇', '大厂镇']))
    // the way back up, from the officer's city
    const trail = document.querySelector('.trail')!
    expect(trail.textContent?.replace(/\s/g, '')).toBe('廊坊市›大厂回族自治县')
    ;(trail.querySelector('a') as HTMLElement).click()
    await settle(30)
    expect(router.currentRoute.value.query).toEqual({ from: '2026-10', to: '2026-12' })
    wrapper.unmount()
  })

  it('sorts by a column through the URL', async () => {
    server()
    const { wrapper, router } = await open('/dashboard?sort=records&order=ascending')
    expect(names()).toEqual(['永清县', '固安县', '大厂回族自治县'])
    const head = [...document.querySelectorAll('.rank-table th')].find((th) => th.textContent?.trim() === '按时签收') as HTMLElement
    head.click()
    await settle(20)
    expect(router.currentRoute.value.query.sort).toBe('on_time')
    // 固安 acknowledged one of two tips in time, 大厂 its one; 永清 had none, last either way
    await vi.waitFor(() => expect(names()).toEqual(['固安县', '大厂回族自治县', '永清县']))
    wrapper.unmount()
  })

  it('draws the months, the deadlines and the lists from the overview', async () => {
    server()
    const { wrapper } = await open('/dashboard')
    const charts = wrapper.findAllComponents({ name: 'ChartStub' })
    expect(charts.length).toBe(5)
    const trend = charts[0].props('option') as ReturnType<typeof trendOption>
    expect(trend.xAxis.data).toEqual(['2026-10', '2026-11', '2026-12'])
    expect(trend.series.map((s) => s.name)).toEqual(['走访日志', '民情报告', '风险隐患线索', '矛盾纠纷调解记录', '合计'])
    expect(trend.series[4].data).toEqual([2, 3, 4])
    const ack = charts[1].props('option') as ReturnType<typeof ackOption>
    expect(ack.series.map((s) => s.data)).toEqual([[0, 1, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    expect(ack.xAxis.data[0]).toBe('一般(时限 1 天)')
    const levels = document.querySelector('.levels-table')!.textContent!
    expect(levels).toContain('2 小时')
    expect(levels).toContain('1 天')
    expect(document.querySelector('.idle-instructors')?.textContent).toContain('从未提交')
    expect(document.querySelector('.kpis')?.textContent).toContain('按时签收 50.0%')
    // the units where ethnic work is heavy: in all, without an instructor (a link to them), per county
    const heavy = document.querySelector('.heavy-units')!
    expect(heavy.textContent?.replace(/\s/g, '')).toBe('民族工作任务较重3个,其中无指导员1个')
    expect((heavy.querySelector('a') as HTMLAnchorElement).getAttribute('href')).toBe('/units/without-instructor?heavy=true')
    expect(document.querySelector('.rank-table')?.textContent).toContain('重点单位无指导员')
    wrapper.unmount()
  })

  it('counts the records by the five roles (a role with none marked) and by tag, and each region by role', async () => {
    server()
    const { wrapper } = await open('/dashboard')
    const roleRows = [...document.querySelectorAll('.roles-table tbody tr')].map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent?.trim()))
    expect(roleRows).toEqual([
      ['政治引领员', '1', '11.1%'], ['政策宣传员', '4', '44.4%'], ['活动组织员', '0', '0.0%'], ['维稳调解员', '3', '33.3%'], ['民情联络员', '1', '11.1%'],
    ])
    expect(document.querySelector('.roles-table tbody tr:nth-child(3) .warn')?.textContent).toBe('0')
    const tagRows = [...document.querySelectorAll('.tags-table tbody tr')].map((r) => [...r.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent?.trim()))
    expect(tagRows).toEqual([['石榴花开', '3'], ['学习宣传', '2'], ['品牌创建', '0'], ['民生与乡村振兴', '1'], ['特殊群体帮扶', '0'], ['交往交流交融', '1']])
    // the regions' table: one column per role
    const heads = [...document.querySelectorAll('.rank-table thead th')].map((th) => th.textContent?.trim())
    expect(heads).toContain('记录按“五大员”角色')
    for (const [, label] of ROLES) expect(heads).toContain(label)
    const guan = [...document.querySelectorAll('.rank-table tbody tr')].find((r) => r.textContent?.includes('固安县'))!
    const cells = [...guan.querySelectorAll('td')].slice(-5).map((td) => td.textContent?.trim())
    expect(cells).toEqual(['4', '0', '0', '0', '0'])
    expect(guan.querySelectorAll('td .warn').length).toBeGreaterThanOrEqual(4)
    wrapper.unmount()
  })

  it('downloads the workbook of the region and months shown', async () => {
    server()
    const created: string[] = []
    globalThis.URL.createObjectURL = vi.fn(() => 'blob:x')
    globalThis.URL.revokeObjectURL = vi.fn()
    const clicks = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      created.push(this.download)
    })
    const { wrapper } = await open(`/dashboard?region_code=${DACHANG}&from=2026-10&to=2026-12`)
    const files = fakeServer({
      'GET /api/v1/stats/overview.xlsx': () =>
        new Response(new Blob(['PK']), { status: 200, headers: { 'Content-Disposition': "attachment; filename*=utf-8''%E7%BB%9F%E8%AE%A1.xlsx" } }),
    })
    ;(document.querySelector('.workbook') as HTMLButtonElement).click()
    await settle(20)
    expect(created).toEqual(['统计.xlsx'])
    const q = files.calls[0].query
    expect([q.get('region_code'), q.get('from'), q.get('to')]).toEqual([DACHANG, '2026-10', '2026-12'])
    clicks.mockRestore()
    wrapper.unmount()
  })

  it("shows the API's refusal of a region out of scope", async () => {
    fakeServer({
      'GET /api/v1/stats/overview': () => apiError(403, 'forbidden', '该行政区划不在您的管辖范围内', [{ field: 'region_code', message: '不在您的管辖范围内' }]),
      'GET /api/v1/stats/regions': () => apiError(403, 'forbidden', '该行政区划不在您的管辖范围内'),
    })
    const { wrapper } = await open('/dashboard?region_code=130100000000')
    expect(document.querySelector('.error-notice')?.textContent).toContain('不在您的管辖范围内')
    expect(document.querySelector('.kpis')).toBeNull()
    wrapper.unmount()
  })
})

describe('the dashboard helpers', () => {
  it('reads durations and rates as an officer would', () => {
    expect(minutes(12)).toBe('12 分钟')
    expect(minutes(90)).toBe('1.5 小时')
    expect(minutes(2880)).toBe('2 天')
    expect(minutes(null)).toBe('—')
    expect(onTimeRate(deadline(3, 0, 0, null, null))).toBeNull()
    expect(onTimeRate(deadline(4, 3, 1, null, 5))).toBe(0.75)
  })

  it('ranks with the regions that have no figure last, both ways', () => {
    const rows = cityTable.items
    expect(ranked(rows, 'records_per_instructor', true).map((r) => r.region.name)).toEqual(['固安县', '大厂回族自治县', '永清县'])
    expect(ranked(rows, 'records_per_instructor', false).map((r) => r.region.name)).toEqual(['大厂回族自治县', '固安县', '永清县'])
  })
})

import { beforeEach, describe, expect, it } from 'vitest'
import UnitsView from '../src/views/UnitsView.vue'
import { clearSession, setSession } from '../src/api/session'
import { dictionaries, fakeServer, json, settle } from './fake'
import { mountPage } from './mount'

const user = { id: 1, role: 'county_staff' as const, display_name: '县局', username: 'c', region_code: '131028000000' }
const unit = (id: number, name: string) => ({
  id, name, kind: 'village', kind_name: '村', key_task: '', region_code: '131028100000', region_name: '大厂镇',
  address: '', active_instructors: 1, created_at: '2026-01-01T00:00:00+08:00', updated_at: '2026-01-01T00:00:00+08:00',
})

function server() {
  return fakeServer({
    'GET /api/v1/dictionaries': () => json(200, dictionaries),
    'GET /api/v1/regions/131028000000': () => json(200, { code: '131028000000', parent_code: '131000000000', name: '大厂回族自治县', level: 'county', ancestors: [] }),
    'GET /api/v1/regions/131028100000': () => json(200, { code: '131028100000', parent_code: '131028000000', name: '大厂镇', level: 'township', ancestors: [{ code: '131028000000', name: '大厂回族自治县', level: 'county' }] }),
    'GET /api/v1/regions': () => json(200, { items: [{ code: '131028100000', parent_code: '131028000000', name: '大厂镇', level: 'township' }], next_cursor: '' }),
    'GET /api/v1/units': (c) =>
      c.query.get('cursor') === 'p2'
        ? json(200, { items: [unit(1, '第二页单位')], next_cursor: '' })
        : json(200, { items: [unit(3, '甲村委会'), unit(2, '乙村委会')], next_cursor: 'p2' }),
  })
}

describe('a list page (units)', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', token_type: 'Bearer', expires_in: 900, user })
  })

  it('loads with the filters of the URL and shows the rows', async () => {
    const srv = server()
    const { wrapper } = await mountPage(UnitsView, '/units?kind=village&q=%E7%94%B2&region_code=131028100000')
    await settle(20)
    const call = srv.calls.find((c) => c.path === '/api/v1/units')!
    expect(call.query.get('kind')).toBe('village')
    expect(call.query.get('q')).toBe('甲')
    expect(call.query.get('region_code')).toBe('131028100000')
    expect(call.query.get('limit')).toBe('20')
    const rows = wrapper.findAll('.units-table .el-table__body tr')
    expect(rows).toHaveLength(2)
    expect(rows[0].text()).toContain('甲村委会')
    expect((wrapper.find('input[aria-label="单位名称"]').element as HTMLInputElement).value).toBe('甲')
    wrapper.unmount()
  })

  it('puts the filters in the URL on search, and the cursor on the next page and back', async () => {
    const srv = server()
    const { wrapper, router } = await mountPage(UnitsView, '/units')
    await settle(20)
    await wrapper.find('input[aria-label="单位名称"]').setValue('乙')
    await wrapper.find('form.filters').trigger('submit')
    await settle(20)
    expect(router.currentRoute.value.query).toEqual({ q: '乙' })
    expect(srv.calls.filter((c) => c.path === '/api/v1/units').at(-1)!.query.get('q')).toBe('乙')

    const next = wrapper.findAll('.cursor-pager button').find((b) => b.text() === '下一页')!
    await next.trigger('click')
    await settle(20)
    expect(router.currentRoute.value.query).toMatchObject({ q: '乙', cursor: 'p2' })
    const last = srv.calls.filter((c) => c.path === '/api/v1/units').at(-1)!
    expect(last.query.get('cursor')).toBe('p2')
    expect(last.query.get('q')).toBe('乙')
    expect(wrapper.text()).toContain('第二页单位')
    expect(wrapper.text()).toContain('第 2 页')

    const prev = wrapper.findAll('.cursor-pager button').find((b) => b.text() === '上一页')!
    await prev.trigger('click')
    await settle(20)
    expect(router.currentRoute.value.query).toEqual({ q: '乙' })
    expect(wrapper.text()).toContain('第 1 页')
    wrapper.unmount()
  })

  it('shows the API error with its request id instead of an empty table', async () => {
    fakeServer({
      'GET /api/v1/dictionaries': () => json(200, dictionaries),
      'GET /api/v1/regions/131028000000': () => json(200, { code: '131028000000', parent_code: '131000000000', name: '大厂回族自治县', level: 'county', ancestors: [] }),
      'GET /api/v1/units': () => json(503, { code: 'unavailable', message: '数据库暂时不可用', details: [], request_id: 'rid-503-xyz' }),
    })
    const { wrapper } = await mountPage(UnitsView, '/units')
    await settle(20)
    const alert = wrapper.find('.error-notice')
    expect(alert.exists()).toBe(true)
    expect(alert.text()).toContain('服务暂时不可用')
    expect(alert.text()).toContain('数据库暂时不可用')
    expect(alert.text()).toContain('rid-503-xyz')
    wrapper.unmount()
  })
})

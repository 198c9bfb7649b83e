import { beforeEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import RegionPicker from '../src/components/RegionPicker.vue'
import { clearSession, setSession } from '../src/api/session'
import { fakeServer, json, settle } from './fake'

const county = { code: '131028000000', parent_code: '131000000000', name: '大厂回族自治县', level: 'county', ancestors: [
  { code: '130000000000', name: '河北省', level: 'province' }, { code: '131000000000', name: '廊坊市', level: 'city' }] }
const town = { code: '131028100000', parent_code: '131028000000', name: '大厂镇', level: 'township', ancestors: [...county.ancestors, { code: county.code, name: county.name, level: 'county' }] }
const other = { code: '131022000000', parent_code: '131000000000', name: '固安县', level: 'county', ancestors: county.ancestors }

function server() {
  return fakeServer({
    'GET /api/v1/regions/131028000000': () => json(200, county),
    'GET /api/v1/regions/131028100000': () => json(200, town),
    'GET /api/v1/regions/131022000000': () => json(200, other),
    'GET /api/v1/regions': (c) =>
      c.query.get('parent') === '131028000000'
        ? json(200, { items: [{ code: town.code, parent_code: county.code, name: town.name, level: 'township' }], next_cursor: '' })
        : json(200, { items: [], next_cursor: '' }),
  })
}

describe('the region cascader', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', token_type: 'Bearer', expires_in: 900,
      user: { id: 1, role: 'county_staff', display_name: '县局', username: 'c', region_code: county.code } })
  })

  it("offers only the officer's own county and what is below it", async () => {
    const srv = server()
    const w = mount(RegionPicker, { props: { modelValue: '' }, global: { plugins: [ElementPlus] }, attachTo: document.body })
    await settle(20)
    await w.find('.el-cascader').trigger('click')
    await settle(20)
    const first = [...document.querySelectorAll('.el-cascader-menu')][0]
    const labels = [...first.querySelectorAll('.el-cascader-node__label')].map((n) => n.textContent?.trim())
    expect(labels).toEqual(['大厂回族自治县'])
    // never asks for the province's or the city's children
    const parents = srv.calls.filter((c) => c.path === '/api/v1/regions').map((c) => c.query.get('parent'))
    expect(parents.every((p) => p === county.code)).toBe(true)
    w.unmount()
  })

  it('shows a township chosen earlier (from the URL) by its path', async () => {
    server()
    const w = mount(RegionPicker, { props: { modelValue: town.code }, global: { plugins: [ElementPlus] } })
    await settle(30)
    expect((w.find('input').element as HTMLInputElement).value).toContain('大厂镇')
    w.unmount()
  })

  it('drops a region outside the scope instead of showing it', async () => {
    server()
    const w = mount(RegionPicker, { props: { modelValue: other.code }, global: { plugins: [ElementPlus] } })
    await settle(30)
    expect((w.find('input').element as HTMLInputElement).value).toBe('')
    w.unmount()
  })

  it('emits the code of the region picked', async () => {
    server()
    const w = mount(RegionPicker, { props: { modelValue: '' }, global: { plugins: [ElementPlus] }, attachTo: document.body })
    await settle(20)
    await w.find('.el-cascader').trigger('click')
    await settle(20)
    const radio = document.querySelector('.el-cascader-menu .el-cascader-node .el-radio') as HTMLElement
    radio.click()
    await settle(20)
    expect(w.emitted('update:modelValue')?.at(-1)).toEqual([county.code])
    w.unmount()
  })
})

import { beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import ErrorNotice from '../src/components/ErrorNotice.vue'
import UnitFormDialog from '../src/views/UnitFormDialog.vue'
import { ApiError } from '../src/api/client'
import { clearSession, setSession } from '../src/api/session'
import { apiError, dictionaries, fakeServer, json, settle } from './fake'

const user = { id: 1, role: 'county_staff' as const, display_name: '县局', username: 'c', region_code: '131028000000' }

describe('error display', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', token_type: 'Bearer', expires_in: 900, user })
  })

  it.each([
    [403, 'forbidden', '不在管辖范围内', '没有权限'],
    [404, 'unit_not_found', '单位不存在', '未找到'],
    [409, 'unit_full', '该单位已有 2 名在任指导员', '与现有数据冲突'],
    [503, 'unavailable', '服务繁忙', '服务暂时不可用'],
  ])('names a %i for what it is, with the message and the request id', (status, code, message, title) => {
    const e = new ApiError(status, { code, message, details: [], request_id: 'rid-' + status + '-000' })
    const w = mount(ErrorNotice, { props: { error: e }, global: { plugins: [ElementPlus] } })
    expect(w.text()).toContain(title)
    expect(w.text()).toContain(message)
    expect(w.text()).toContain('请求编号 rid-' + status + '-000')
    expect(w.find('[role="alert"]').exists()).toBe(true)
  })

  it('shows nothing without an error', () => {
    const w = mount(ErrorNotice, { props: { error: null }, global: { plugins: [ElementPlus] } })
    expect(w.find('.error-notice').exists()).toBe(false)
  })

  it('puts the API field errors beside the fields they name', async () => {
    const srv = fakeServer({
      'GET /api/v1/dictionaries': () => json(200, dictionaries),
      'GET /api/v1/regions/131028000000': () => json(200, { code: '131028000000', parent_code: '131000000000', name: '大厂回族自治县', level: 'county', ancestors: [] }),
      'POST /api/v1/units': () =>
        apiError(400, 'invalid_argument', '提交的内容有误', [
          { field: 'name', message: '单位名称不能为空' },
          { field: 'region_code', message: '请选择所属区划' },
        ]),
    })
    const w = mount(UnitFormDialog, { props: { modelValue: true, unit: null }, global: { plugins: [ElementPlus] }, attachTo: document.body })
    await settle(20)
    const save = [...document.querySelectorAll('.el-dialog button')].find((b) => b.textContent?.includes('保存')) as HTMLButtonElement
    save.click()
    await settle(20)
    expect(srv.calls.some((c) => c.method === 'POST' && c.path === '/api/v1/units')).toBe(true)
    const items = [...document.querySelectorAll('.el-dialog .el-form-item')]
    const nameItem = items.find((i) => i.textContent?.includes('单位名称'))!
    const regionItem = items.find((i) => i.textContent?.includes('所属区划'))!
    const kindItem = items.find((i) => i.textContent?.includes('单位类型'))!
    await vi.waitFor(() => expect(nameItem.querySelector('.el-form-item__error')?.textContent).toContain('单位名称不能为空'))
    await vi.waitFor(() => expect(regionItem.querySelector('.el-form-item__error')?.textContent).toContain('请选择所属区划'))
    expect(regionItem.querySelector('.el-form-item__error')?.textContent).toContain('请选择所属区划')
    expect(kindItem.querySelector('.el-form-item__error')).toBeNull()
    expect(document.querySelector('.el-dialog .error-notice')?.textContent).toContain('req-test-0001')
    w.unmount()
  })
})

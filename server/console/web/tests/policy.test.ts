import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import DecisionDialog from '../src/views/policy/DecisionDialog.vue'
import SupportFormDialog from '../src/views/policy/SupportFormDialog.vue'
import { clearSession, setSession } from '../src/api/session'
import { apiError, dictionaries, fakeServer, json, settle } from './fake'
import type { components } from '../src/api/schema'

type Member = components['schemas']['AdjustmentMember']

const member = (id: number, name: string): Member => ({
  instructor_id: id, name, unit_id: 1, unit_name: '东关村', region_code: '131028100000', county_code: '131028000000', county_name: '大厂回族自治县',
  term_end: '2026-06-01', status: 'active', status_name: '在任', current_term_end: '2026-06-01', state: 'overdue', state_name: '任期已届满未决定',
  overdue: true, decision: '', decision_name: '', reason_category: '', reason_category_name: '', note: '', decided_at: null, assessments: [],
})

type Form = Record<string, unknown>
const formOf = (w: { vm: unknown }) => (w.vm as { $: { setupState: { form: Form } } }).$.setupState.form
const click = (cls: string) => (document.querySelector(cls) as HTMLElement).dispatchEvent(new MouseEvent('click'))

describe('the adjustment decision dialog', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 3, role: 'county_staff', display_name: '县局', username: 'dc', region_code: '131028000000' } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  function open(decision: 'renew' | 'end' | 'replace', members = [member(7, '马明'), member(8, '李华')]) {
    return mount(DecisionDialog, {
      props: { modelValue: false, roundId: 5, members, decision },
      global: { plugins: [ElementPlus] },
      attachTo: document.body,
    })
  }

  it('renews the selected instructors in one request, each with the reason and note', async () => {
    const srv = fakeServer({
      'GET /api/v1/dictionaries': () => json(200, dictionaries),
      'POST /api/v1/adjustment-rounds/5/decisions': () => json(200, { items: [] }),
    })
    const w = open('renew')
    await w.setProps({ modelValue: true })
    await settle(10)
    Object.assign(formOf(w), { reason_category: 'performance', note: '作用发挥好' })
    click('.dc-save')
    await settle(20)
    expect(srv.calls.find((c) => c.method === 'POST')?.body).toEqual({
      decisions: [
        { instructor_id: 7, decision: 'renew', reason_category: 'performance', note: '作用发挥好' },
        { instructor_id: 8, decision: 'renew', reason_category: 'performance', note: '作用发挥好' },
      ],
    })
    expect(w.emitted('done')).toHaveLength(1)
    w.unmount()
  })

  it("names the instructor an item's error is about: beside the field, or in the list for the item as a whole", async () => {
    fakeServer({
      'GET /api/v1/dictionaries': () => json(200, dictionaries),
      'POST /api/v1/adjustment-rounds/5/decisions': () =>
        apiError(409, 'adjustment_decided', '该指导员已作出另一项调整决定,不能更改', [
          { field: 'decisions[1].instructor_id', message: '已决定为续聘' },
          { field: 'decisions[1].reason_category', message: '请选择调整原因' },
        ]),
    })
    const w = open('end')
    await w.setProps({ modelValue: true })
    await settle(10)
    Object.assign(formOf(w), { reason_category: 'own_wish' })
    click('.dc-save')
    await settle(20)
    await vi.waitFor(() => expect(document.body.textContent).toContain('李华:已决定为续聘'))
    await vi.waitFor(() => expect([...document.querySelectorAll('.el-form-item__error')].map((e) => e.textContent)).toContain('李华:请选择调整原因'))
    expect(w.emitted('done')).toBeUndefined()
    w.unmount()
  })

  it('replaces one with a new person; the replacement errors show beside its fields', async () => {
    const srv = fakeServer({
      'GET /api/v1/dictionaries': () => json(200, dictionaries),
      'POST /api/v1/adjustment-rounds/5/decisions': () =>
        apiError(400, 'invalid_argument', '请检查填写的内容', [{ field: 'decisions[0].replacement.phone', message: '手机号应为11位数字' }]),
    })
    const w = open('replace', [member(7, '马明')])
    await w.setProps({ modelValue: true })
    await settle(10)
    const f = formOf(w)
    Object.assign(f, { reason_category: 'health' })
    Object.assign(f.person as Form, { name: '张强', gender: 'male', ethnicity: '01', phone: '1380000', source_category: 'other' })
    click('.dc-save')
    await settle(20)
    expect(srv.calls.find((c) => c.method === 'POST')?.body).toEqual({
      decisions: [{ instructor_id: 7, decision: 'replace', reason_category: 'health',
        replacement: { name: '张强', gender: 'male', ethnicity: '01', phone: '1380000', source_category: 'other' } }],
    })
    const beside = () => [...document.querySelectorAll('.el-form-item__error')].map((e) => e.textContent ?? '')
    await vi.waitFor(() => expect(beside()).toContain('手机号应为11位数字'))
    w.unmount()
  })
})

describe('the support form', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 3, role: 'county_staff', display_name: '县局', username: 'dc', region_code: '131028000000' } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('records a visit to the instructor whose file it was opened from', async () => {
    const srv = fakeServer({ 'POST /api/v1/support-records': () => json(201, { id: 9 }) })
    const w = mount(SupportFormDialog, {
      props: { modelValue: true, instructorId: 7, instructorLabel: '马明(东关村)' },
      global: { plugins: [ElementPlus] },
      attachTo: document.body,
    })
    await settle(10)
    Object.assign(formOf(w), { given_on: '2026-01-20', given_by: '县民宗局 王局长', note: '春节走访慰问' })
    click('.sp-save')
    await settle(20)
    expect(srv.calls.find((c) => c.method === 'POST')?.body).toEqual({
      kind: 'visit_care', given_on: '2026-01-20', given_by: '县民宗局 王局长', note: '春节走访慰问', instructor_ids: [7],
    })
    expect(w.emitted('saved')).toHaveLength(1)
    w.unmount()
  })

  it('asks for a region before sending support for a whole region, and shows the API refusing one outside the scope', async () => {
    const srv = fakeServer({
      'GET /api/v1/regions/131028000000': () => json(200, { code: '131028000000', parent_code: '131000000000', name: '大厂回族自治县', level: 'county', ancestors: [] }),
      'GET /api/v1/regions': () => json(200, { items: [], next_cursor: '' }),
      'POST /api/v1/support-records': () => apiError(403, 'forbidden', '支持对象超出了您的管辖范围', [{ field: 'recipient_region', message: '不在您的管辖范围内' }]),
    })
    const w = mount(SupportFormDialog, { props: { modelValue: true }, global: { plugins: [ElementPlus] }, attachTo: document.body })
    await settle(10)
    Object.assign(formOf(w), { kind: 'periodicals', given_by: '县民宗局', audience: 'region' })
    click('.sp-save')
    await settle(10)
    expect(srv.calls.some((c) => c.method === 'POST')).toBe(false)
    expect(document.body.textContent).toContain('请选择区划')
    Object.assign(formOf(w), { recipient_region: '131000000000' })
    click('.sp-save')
    await settle(20)
    expect(srv.calls.find((c) => c.method === 'POST')?.body).toMatchObject({ kind: 'periodicals', recipient_region: '131000000000' })
    await vi.waitFor(() => expect(document.body.textContent).toContain('不在您的管辖范围内'))
    w.unmount()
  })
})

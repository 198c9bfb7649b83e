import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import SessionFormDialog from '../src/views/training/SessionFormDialog.vue'
import PlanFormDialog from '../src/views/training/PlanFormDialog.vue'
import { clearSession, setSession } from '../src/api/session'
import { apiError, fakeServer, json, settle } from './fake'

const START = '2026-12-10T09:00:00+08:00'
const END = '2026-12-10T12:00:00+08:00'

function open(planId?: number) {
  return mount(SessionFormDialog, { props: { modelValue: true, planId }, global: { plugins: [ElementPlus] }, attachTo: document.body })
}
type Form = Record<string, unknown>
const formOf = (w: ReturnType<typeof open>) => (w.vm as unknown as { $: { setupState: { form: Form } } }).$.setupState.form
const save = () => [...document.querySelectorAll('.el-dialog__footer button')].find((b) => b.textContent?.includes('保存'))!.dispatchEvent(new MouseEvent('click'))

describe('the training session form', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 3, role: 'city_staff', display_name: '市局', username: 'lf', region_code: '131000000000' } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('sends an offline session inside its plan with place and hours, not a link', async () => {
    const srv = fakeServer({
      'GET /api/v1/training-plans': () => json(200, { items: [], next_cursor: '' }),
      'POST /api/v1/training-sessions': () => json(201, { id: 4 }),
    })
    const w = open(12)
    await settle(20)
    Object.assign(formOf(w), { title: '指导员业务培训', topics: ['laws_regulations'], place: '市民宗局会议室', url: 'https://x', starts_at: START, ends_at: END, hours: 3.5 })
    save()
    await settle(20)
    expect(srv.calls.find((c) => c.method === 'POST')?.body).toEqual({
      plan_id: 12, title: '指导员业务培训', topics: ['laws_regulations'], method: 'lecture', mode: 'offline', place: '市民宗局会议室', starts_at: START, ends_at: END, hours: 3.5,
    })
    expect(w.emitted('saved')).toHaveLength(1)
    w.unmount()
  })

  it("shows the API's refusal beside the hours", async () => {
    fakeServer({
      'GET /api/v1/training-plans': () => json(200, { items: [], next_cursor: '' }),
      'POST /api/v1/training-sessions': () => apiError(400, 'invalid_argument', '请检查填写的内容', [{ field: 'hours', message: '学时最多一位小数' }]),
    })
    const w = open()
    await settle(20)
    Object.assign(formOf(w), { title: '研讨', place: '会议室', starts_at: START, ends_at: END, hours: 1 })
    save()
    await settle(20)
    await vi.waitFor(() => expect(document.body.textContent).toContain('学时最多一位小数'))
    w.unmount()
  })
})

const session = {
  id: 4, plan_id: 12, year: 2026, title: '指导员业务培训', topic: '民族政策', lecturer: '王老师', method: 'lecture', method_name: '专家授课',
  mode: 'offline', mode_name: '线下', place: '市民宗局会议室', url: '', starts_at: START, ends_at: END, hours: 3, region_code: '131000000000',
  region_name: '廊坊市', enrolled: 0, attended: 0, created_at: START, updated_at: START,
}

describe('changing a training session or plan', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 3, role: 'city_staff', display_name: '市局', username: 'lf', region_code: '131000000000' } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('starts from the session and sends only what changed (a time the picker rewrote is not a change)', async () => {
    const srv = fakeServer({
      'GET /api/v1/training-plans': () => json(200, { items: [], next_cursor: '' }),
      'PATCH /api/v1/training-sessions/4': () => json(200, { ...session, place: '市会议中心', hours: 3.5 }),
    })
    const w = mount(SessionFormDialog, { props: { modelValue: true, session: session as never }, global: { plugins: [ElementPlus] }, attachTo: document.body })
    await settle(20)
    const f = formOf(w as never)
    expect([f.title, f.place, f.hours, f.plan_id]).toEqual(['指导员业务培训', '市民宗局会议室', 3, 12])
    expect(document.querySelector('.el-dialog__title')?.textContent).toBe('修改培训')
    // the same instant written the way the picker writes it, in UTC
    Object.assign(f, { place: '市会议中心', hours: 3.5, starts_at: '2026-12-10T01:00:00Z' })
    save()
    await settle(20)
    expect(srv.calls.find((c) => c.method === 'PATCH')?.body).toEqual({ place: '市会议中心', hours: 3.5 })
    expect(srv.calls.some((c) => c.method === 'POST')).toBe(false)
    expect(w.emitted('saved')).toHaveLength(1)
    w.unmount()
  })

  it('changes a plan: only the fields changed', async () => {
    const plan = { id: 12, year: 2026, title: '2026年指导员培训计划', goals: '全员轮训', region_code: '131000000000', region_name: '廊坊市',
      session_count: 1, hours: 3, created_at: START, updated_at: START }
    const srv = fakeServer({ 'PATCH /api/v1/training-plans/12': () => json(200, { ...plan, goals: '全员轮训一次' }) })
    const w = mount(PlanFormDialog, { props: { modelValue: true, plan: plan as never }, global: { plugins: [ElementPlus] }, attachTo: document.body })
    await settle(20)
    const f = (w.vm as unknown as { $: { setupState: { form: Form } } }).$.setupState.form
    expect([f.year, f.title, f.goals]).toEqual([2026, '2026年指导员培训计划', '全员轮训'])
    f.goals = '全员轮训一次'
    save()
    await settle(20)
    expect(srv.calls.map((c) => [c.method, c.path, c.body])).toEqual([['PATCH', '/api/v1/training-plans/12', { goals: '全员轮训一次' }]])
    w.unmount()
  })
})

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import SessionFormDialog from '../src/views/training/SessionFormDialog.vue'
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

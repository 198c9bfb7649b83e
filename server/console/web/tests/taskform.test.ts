import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import TaskFormDialog from '../src/views/tasks/TaskFormDialog.vue'
import { clearSession, setSession } from '../src/api/session'
import { apiError, fakeServer, json, settle } from './fake'

const county = { code: '131028000000', parent_code: '131000000000', name: '大厂回族自治县', level: 'county', ancestors: [
  { code: '130000000000', name: '河北省', level: 'province' }, { code: '131000000000', name: '廊坊市', level: 'city' }] }
const DUE = '2026-12-20T18:00:00+08:00'
const task = {
  id: 31, title: '排查走访', description: '', due_at: DUE, overdue: false, region_code: county.code, region_name: county.name,
  assignee_region: county.code, assignee_region_name: county.name, assignee_count: 12, created_at: DUE, updated_at: DUE,
}

function server(extra: Parameters<typeof fakeServer>[0] = {}) {
  return fakeServer({
    'GET /api/v1/regions/131028000000': () => json(200, county),
    'GET /api/v1/regions': () => json(200, { items: [], next_cursor: '' }),
    ...extra,
  })
}

function open() {
  return mount(TaskFormDialog, { props: { modelValue: true }, global: { plugins: [ElementPlus] }, attachTo: document.body })
}

function type(sel: string, v: string) {
  const el = document.querySelector(sel) as HTMLInputElement
  el.value = v
  el.dispatchEvent(new Event('input'))
}

function fieldError(label: string) {
  const item = [...document.querySelectorAll('.el-form-item')].find((i) => i.querySelector('label')?.textContent?.startsWith(label))!
  return item.querySelector('.el-form-item__error')?.textContent ?? ''
}

type Form = { due_at: string; assignee_region: string; audience: string; instructor_ids: number[] }
const formOf = (w: ReturnType<typeof open>) => (w.vm as unknown as { $: { setupState: { form: Form } } }).$.setupState.form
const save = () => (document.querySelector('.tk-save') as HTMLButtonElement).click()

describe('the task form', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 9, role: 'county_staff', display_name: '县局', username: 'c', region_code: county.code } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('assigns to a region: sends title, requirement, deadline and the region, nothing else', async () => {
    const srv = server({ 'POST /api/v1/tasks': () => json(201, task) })
    const w = open()
    await settle(20)
    type('#tk-title', '排查走访')
    type('#tk-desc', '走访辖区内全部单位')
    // the pickers are Element Plus widgets: set their values through the form's own model
    formOf(w).due_at = DUE
    formOf(w).assignee_region = county.code
    save()
    await settle(20)
    const post = srv.calls.find((c) => c.method === 'POST')
    expect(post?.body).toEqual({ title: '排查走访', description: '走访辖区内全部单位', due_at: DUE, assignee_region: county.code })
    expect(w.emitted('saved')?.[0]).toEqual([task])
    expect(w.emitted('update:modelValue')?.at(-1)).toEqual([false])
    w.unmount()
  })

  it('assigns to instructors picked by hand', async () => {
    const srv = server({ 'POST /api/v1/tasks': () => json(201, { ...task, assignee_region: undefined, assignee_region_name: undefined, assignee_count: 2 }) })
    const w = open()
    await settle(20)
    type('#tk-title', '上报名单')
    Object.assign(formOf(w), { due_at: DUE, audience: 'list', instructor_ids: [5, 8] })
    save()
    await settle(20)
    expect(srv.calls.find((c) => c.method === 'POST')?.body).toEqual({ title: '上报名单', due_at: DUE, instructor_ids: [5, 8] })
    w.unmount()
  })

  it('asks for an audience before calling the API', async () => {
    const srv = server()
    const w = open()
    await settle(20)
    type('#tk-title', '排查走访')
    formOf(w).due_at = DUE
    save()
    await settle(10)
    await vi.waitFor(() => expect(fieldError('区划')).toContain('请选择'))
    expect(srv.calls.filter((c) => c.path === '/api/v1/tasks')).toHaveLength(0)
    w.unmount()
  })

  it("shows the API's field errors beside the fields", async () => {
    server({
      'POST /api/v1/tasks': () =>
        apiError(400, 'invalid_argument', '请检查填写的内容', [
          { field: 'title', message: '请填写任务名称' },
          { field: 'due_at', message: '完成时限须晚于当前时间' },
        ]),
    })
    const w = open()
    await settle(20)
    Object.assign(formOf(w), { due_at: '2020-01-01T00:00:00+08:00', assignee_region: county.code })
    save()
    await settle(20)
    // the API's answer may come after the form's own check of the empty title: wait for all of it
    await vi.waitFor(() => {
      expect(fieldError('完成时限')).toContain('晚于当前时间')
      expect(fieldError('任务名称')).toContain('请填写任务名称')
      expect(document.querySelector('.error-notice')?.textContent).toContain('请检查填写的内容')
    })
    w.unmount()
  })
})

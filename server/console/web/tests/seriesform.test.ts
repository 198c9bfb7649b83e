import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import SeriesFormDialog from '../src/views/meetings/SeriesFormDialog.vue'
import { newRuleForm, ruleFields, ruleText } from '../src/views/meetings/series'
import { clearSession, setSession } from '../src/api/session'
import { apiError, fakeServer, json, settle } from './fake'

const COUNTY = '131028000000'
const series = {
  id: 7, title: '月度例会', place: '县民宗局会议室', agenda: '', audience: 'county', audience_name: '全县指导员', instructor_ids: [],
  frequency: 'monthly_weekday', frequency_name: '每月第几个星期几', weekday: 1, week_of_month: 1, rule_text: '每月第一个星期一 09:00',
  start_time: '09:00', duration_minutes: 120, starts_on: '2026-12-07', count: 12, status: 'active', status_name: '进行中',
  cancel_reason: '', region_code: COUNTY, region_name: '大厂回族自治县', next_dates: ['2026-12-07T09:00:00+08:00'],
  created_at: '2026-12-05T10:00:00+08:00', updated_at: '2026-12-05T10:00:00+08:00',
}

function open(props: Record<string, unknown> = {}) {
  return mount(SeriesFormDialog, { props: { modelValue: true, ...props }, global: { plugins: [ElementPlus] }, attachTo: document.body })
}

function type(sel: string, v: string) {
  const el = document.querySelector(sel) as HTMLInputElement
  el.value = v
  el.dispatchEvent(new Event('input'))
}

// fieldError is the error shown beside the form item labelled label (of the dialogs open now).
function fieldError(label: string) {
  return [...document.querySelectorAll('.el-form-item')]
    .filter((i) => i.querySelector('.el-form-item__label')?.textContent?.trim().startsWith(label))
    .map((i) => i.querySelector('.el-form-item__error')?.textContent ?? '')
    .join(' ')
}

type Rule = ReturnType<typeof newRuleForm>
const ruleOf = (w: ReturnType<typeof open>) => (w.vm as unknown as { $: { setupState: { rule: Rule } } }).$.setupState.rule
const save = () => (document.querySelector('.ms-save') as HTMLButtonElement).click()

describe('the rule of a recurring meeting', () => {
  it('sends only the fields of the chosen frequency, and one end', () => {
    const f = newRuleForm()
    expect(ruleFields(f)).toEqual({ frequency: 'monthly_weekday', weekday: 1, week_of_month: 1, start_time: '09:00', duration_minutes: 120, count: 12 })
    expect(ruleText(f)).toBe('每月第一个星期一 09:00')
    Object.assign(f, { frequency: 'monthly_day', month_day: 15, end: 'until', until: '2027-06-30', starts_on: '2027-01-01' })
    expect(ruleFields(f)).toEqual({ frequency: 'monthly_day', month_day: 15, start_time: '09:00', duration_minutes: 120, until: '2027-06-30', starts_on: '2027-01-01' })
    expect(ruleText(f)).toBe('每月15日 09:00')
    Object.assign(f, { frequency: 'weekly', weekday: 3, start_time: '14:30' })
    expect(ruleFields(f)).toEqual({ frequency: 'weekly', weekday: 3, start_time: '14:30', duration_minutes: 120, until: '2027-06-30', starts_on: '2027-01-01' })
    expect(ruleText(f)).toBe('每周星期三 14:30')
    Object.assign(f, { frequency: 'monthly_weekday', week_of_month: -1, weekday: 5 })
    expect(ruleText(f)).toBe('每月最后一个星期五 14:30')
  })
})

describe('the series form', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 9, role: 'county_staff', display_name: '县局', username: 'c', region_code: COUNTY } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('sets up the first Monday of each month for the county', async () => {
    const srv = fakeServer({ 'POST /api/v1/meeting-series': () => json(201, series) })
    const w = open()
    await settle(20)
    type('#ms-title', '月度例会')
    type('#ms-place', '县民宗局会议室')
    await settle(5)
    expect(document.querySelector('.rule-summary')?.textContent).toBe('每月第一个星期一 09:00')
    save()
    await settle(20)
    expect(srv.calls.find((c) => c.method === 'POST')?.body).toEqual({
      title: '月度例会', place: '县民宗局会议室', audience: 'county', frequency: 'monthly_weekday', weekday: 1, week_of_month: 1,
      start_time: '09:00', duration_minutes: 120, count: 12,
    })
    expect(w.emitted('saved')?.[0]).toEqual([series])
    w.unmount()
  })

  it('switches the fields with the frequency and shows the field the API refuses', async () => {
    const srv = fakeServer({
      'POST /api/v1/meeting-series': () =>
        apiError(400, 'invalid_argument', '提交的内容有误', [{ field: 'until', message: '截止日期前没有符合规则且尚未开始的日期' }]),
    })
    const w = open()
    await settle(20)
    type('#ms-title', '周例会')
    type('#ms-place', '会议室')
    Object.assign(ruleOf(w), { frequency: 'monthly_day', month_day: 10, end: 'until', until: '2026-12-06' })
    await settle(5)
    expect(document.querySelector('#ms-week')).toBeNull()
    expect(document.querySelector('#ms-day')).not.toBeNull()
    expect(document.querySelector('.rule-summary')?.textContent).toBe('每月10日 09:00')
    save()
    await settle(20)
    const body = srv.calls.find((c) => c.method === 'POST')?.body as Record<string, unknown>
    expect(body).toMatchObject({ frequency: 'monthly_day', month_day: 10, until: '2026-12-06' })
    expect(body).not.toHaveProperty('weekday')
    expect(body).not.toHaveProperty('count')
    await vi.waitFor(() => expect(fieldError('结束')).toContain('截止日期前没有符合规则'))
    expect(w.emitted('saved')).toBeUndefined()
    w.unmount()
  })

  it('changes only the details and the time of an existing series', async () => {
    const srv = fakeServer({ 'PATCH /api/v1/meeting-series/7': () => json(200, { ...series, start_time: '14:00' }) })
    const w = open({ series })
    await settle(20)
    expect(document.querySelector('#ms-weekday')).toBeNull()
    ruleOf(w).start_time = '14:00'
    save()
    await settle(20)
    expect(srv.calls.find((c) => c.method === 'PATCH')?.body).toEqual({ start_time: '14:00' })
    w.unmount()
  })
})

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import DeliveriesView from '../src/views/notify/DeliveriesView.vue'
import DutySwitch from '../src/views/notify/DutySwitch.vue'
import { clearSession, session, setSession } from '../src/api/session'
import { apiError, fakeServer, json, settle } from './fake'
import { mountPage } from './mount'

const user = { id: 9, role: 'county_staff' as const, display_name: '县局', username: 'c', region_code: '131028000000', on_duty: false }
const delivery = (id: number, status: string) => ({
  id, event_id: 40 + id, event_kind: 'tip.submitted', subject_type: 'tip', subject_id: 5, channel: 'robot', target_kind: 'group', target_id: 7,
  target_name: '大厂县工作人员群', region_code: '131028000000', title: '风险线索预警', status, attempts: status === 'failed' ? 5 : 1,
  reason: status === 'failed' ? '企业微信返回 93000:webhook 无效' : '', error_code: status === 'failed' ? 93000 : 0,
  created_at: '2026-12-05T09:00:00+08:00', updated_at: '2026-12-05T09:00:00+08:00',
})

describe('the delivery log', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it("asks with the URL's filters, and puts a failed delivery back in the queue", async () => {
    let retried = false
    const srv = fakeServer({
      'GET /api/v1/notifications': () => json(200, { items: [retried ? delivery(3, 'pending') : delivery(3, 'failed'), delivery(2, 'sent')], next_cursor: '' }),
      'POST /api/v1/notifications/3/retry': () => {
        retried = true
        return json(200, delivery(3, 'pending'))
      },
    })
    const { wrapper } = await mountPage(DeliveriesView, '/page?status=failed&subject_type=tip&subject_id=5', 'notify-deliveries')
    await settle(20)
    const list = srv.calls.find((c) => c.path === '/api/v1/notifications')!
    expect(list.query.get('status')).toBe('failed')
    expect(list.query.get('subject_type')).toBe('tip')
    expect(list.query.get('subject_id')).toBe('5')
    expect(list.query.get('limit')).toBe('50')
    expect(document.body.textContent).toContain('93000')
    const retry = () => [...document.querySelectorAll('.deliveries-table button')].filter((b) => b.textContent?.trim() === '重试') as HTMLButtonElement[]
    expect(retry()).toHaveLength(1)
    retry()[0].click()
    await settle(20)
    expect(srv.calls.some((c) => c.method === 'POST' && c.path === '/api/v1/notifications/3/retry')).toBe(true)
    await vi.waitFor(() => expect(retry()).toHaveLength(0))
    wrapper.unmount()
  })

  it("shows the API's refusal of a retry", async () => {
    fakeServer({
      'GET /api/v1/notifications': () => json(200, { items: [delivery(3, 'failed')], next_cursor: '' }),
      'POST /api/v1/notifications/3/retry': () => apiError(409, 'notification_not_failed', '该通知不是失败状态,不能重试'),
    })
    const { wrapper } = await mountPage(DeliveriesView, '/page', 'notify-deliveries')
    await settle(20)
    ;([...document.querySelectorAll('.deliveries-table button')].find((b) => b.textContent?.trim() === '重试') as HTMLButtonElement).click()
    await settle(20)
    await vi.waitFor(() => expect(document.querySelector('.error-notice')?.textContent).toContain('不能重试'))
    wrapper.unmount()
  })
})

describe('the on-duty switch', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user })
  })

  it('puts the officer on duty and keeps the answer in the session', async () => {
    const srv = fakeServer({ 'PUT /api/v1/me/duty': (c) => json(200, c.body) })
    const w = mount(DutySwitch, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    expect(w.text()).toContain('未值班')
    await w.find('.el-switch').trigger('click')
    await settle(20)
    expect(srv.calls[0]).toMatchObject({ method: 'PUT', path: '/api/v1/me/duty', body: { on_duty: true } })
    expect(session.user?.on_duty).toBe(true)
    await vi.waitFor(() => expect(w.text()).toContain('值班中'))
    w.unmount()
  })
})

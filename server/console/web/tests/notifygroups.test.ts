import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import GroupFormDialog from '../src/views/notify/GroupFormDialog.vue'
import GroupsView from '../src/views/notify/GroupsView.vue'
import { webhookProblem } from '../src/views/notify/notify'
import { clearSession, setSession } from '../src/api/session'
import { apiError, fakeServer, json, settle } from './fake'
import { mountPage } from './mount'

const county = { code: '131028000000', parent_code: '131000000000', name: '大厂回族自治县', level: 'county', ancestors: [
  { code: '130000000000', name: '河北省', level: 'province' }, { code: '131000000000', name: '廊坊市', level: 'city' }] }
const KEY = '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa'
const group = {
  id: 7, name: '大厂县指导员群', region_code: county.code, region_name: county.name, audience: 'instructors', webhook_key_hint: '5aaa',
  status: 'disabled', disabled_reason: '企业微信返回 93000', created_by: 9, created_at: '2026-12-01T08:00:00+08:00', updated_at: '2026-12-01T08:00:00+08:00',
}

function server(extra: Parameters<typeof fakeServer>[0] = {}) {
  return fakeServer({
    'GET /api/v1/regions/131028000000': () => json(200, county),
    'GET /api/v1/regions': () => json(200, { items: [], next_cursor: '' }),
    ...extra,
  })
}

function open(g: typeof group | null) {
  return mount(GroupFormDialog, { props: { modelValue: true, group: g as never }, global: { plugins: [ElementPlus] }, attachTo: document.body })
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

const save = () => (document.querySelector('.ng-save') as HTMLButtonElement).click()

describe('the robot group form', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 9, role: 'county_staff', display_name: '县局', username: 'c', region_code: county.code } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('accepts what the server accepts: a key or the whole webhook address', () => {
    expect(webhookProblem(KEY)).toBe('')
    expect(webhookProblem('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=' + KEY)).toBe('')
    expect(webhookProblem('  ' + KEY + '  ')).toBe('')
    expect(webhookProblem('')).toContain('请填写')
    expect(webhookProblem('https://qyapi.weixin.qq.com/cgi-bin/other?key=' + KEY)).toContain('webhook')
    expect(webhookProblem('https://qyapi.weixin.qq.com/cgi-bin/webhook/send')).toContain('webhook')
    expect(webhookProblem('key with spaces')).toContain('webhook')
    expect(webhookProblem('x'.repeat(129))).toContain('webhook')
  })

  it('refuses a malformed webhook beside the field before asking the server', async () => {
    const srv = server()
    const w = open(null)
    await settle(20)
    type('#ng-name', '大厂县指导员群')
    type('#ng-webhook', 'https://example.com/hook?key=abc')
    save()
    await settle(10)
    await vi.waitFor(() => expect(fieldError('webhook')).toContain('企业微信群机器人'))
    expect(srv.calls.filter((c) => c.path === '/api/v1/notification-groups')).toHaveLength(0)
    w.unmount()
  })

  it('registers a group with the whole address and forgets the key once saved', async () => {
    const srv = server({ 'POST /api/v1/notification-groups': () => json(201, { ...group, status: 'active', disabled_reason: '' }) })
    const w = open(null)
    await settle(20)
    type('#ng-name', '大厂县指导员群')
    const url = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=' + KEY
    type('#ng-webhook', url)
    await w.setProps({ group: null })
    // the region comes from the cascader; set it through the form's own model
    ;(w.vm as unknown as { $: { setupState: { form: { region_code: string } } } }).$.setupState.form.region_code = county.code
    save()
    await settle(20)
    const post = srv.calls.find((c) => c.method === 'POST')
    expect(post?.body).toEqual({ name: '大厂县指导员群', audience: 'instructors', region_code: county.code, webhook_key: url })
    expect(w.emitted('saved')).toHaveLength(1)
    expect(w.emitted('update:modelValue')?.at(-1)).toEqual([false])
    await w.setProps({ modelValue: false })
    await w.setProps({ modelValue: true })
    await settle(10)
    expect((document.querySelector('#ng-webhook') as HTMLInputElement).value).toBe('')
    w.unmount()
  })

  it('never shows the stored key back: editing starts empty, shows the last 4, and keeps the key when left empty', async () => {
    const srv = server({ 'PATCH /api/v1/notification-groups/7': () => json(200, { ...group, name: '大厂县指导员一群' }) })
    const w = open(group)
    await settle(20)
    expect((document.querySelector('#ng-webhook') as HTMLInputElement).value).toBe('')
    expect(document.querySelector('.ng-hint')?.textContent).toBe('5aaa')
    type('#ng-name', '大厂县指导员一群')
    save()
    await settle(20)
    const patch = srv.calls.find((c) => c.method === 'PATCH')
    expect(patch?.body).toEqual({ name: '大厂县指导员一群' })
    w.unmount()
  })

  it("shows the API's refusal of the key beside the field", async () => {
    server({ 'PATCH /api/v1/notification-groups/7': () => apiError(409, 'webhook_taken', '该群机器人已登记', [{ field: 'webhook_key', message: '该群机器人已登记' }]) })
    const w = open(group)
    await settle(20)
    type('#ng-webhook', KEY)
    save()
    await settle(20)
    await vi.waitFor(() => expect(fieldError('webhook')).toContain('已登记'))
    expect(document.querySelector('.error-notice')?.textContent).toContain('与现有数据冲突')
    w.unmount()
  })
})

describe('the robot groups page', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 9, role: 'county_staff', display_name: '县局', username: 'c', region_code: county.code } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  const active = { ...group, id: 8, name: '大厂县工作人员群', audience: 'county_staff', status: 'active', disabled_reason: '' }
  const testButtons = () => [...document.querySelectorAll('.groups-table .ng-test')] as HTMLButtonElement[]

  it('sends a test message to an active group only, and shows that it arrived', async () => {
    const srv = server({
      'GET /api/v1/notification-groups': () => json(200, { items: [active, group], next_cursor: '' }),
      'POST /api/v1/notification-groups/8/test': () => json(200, { status: 'sent', reason: '', error_code: 0, sent_at: '2026-12-05T10:30:00+08:00', group: active }),
    })
    const { wrapper } = await mountPage(GroupsView, '/page', 'notify-groups')
    await settle(20)
    // the disabled group (7) has no test button: the API would refuse it
    expect(testButtons()).toHaveLength(1)
    testButtons()[0].click()
    await settle(20)
    expect(srv.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual(['/api/v1/notification-groups/8/test'])
    // the time in the browser's zone (the tests' is UTC)
    await vi.waitFor(() => expect(document.querySelector('.test-result')?.textContent).toMatch(/测试消息已送达“大厂县工作人员群”\(2026-12-05 \d\d:30\)/))
    wrapper.unmount()
  })

  it("says why WeCom refused, and shows the group disabled by it", async () => {
    let disabled = false
    const srv = server({
      'GET /api/v1/notification-groups': () => json(200, { items: [disabled ? { ...active, status: 'disabled', disabled_reason: '企业微信返回93000' } : active], next_cursor: '' }),
      'POST /api/v1/notification-groups/8/test': () => {
        disabled = true
        return json(200, {
          status: 'failed', reason: '群机器人 webhook 地址无效(93000),该群已停用', error_code: 93000,
          group: { ...active, status: 'disabled', disabled_reason: '企业微信返回93000' },
        })
      },
    })
    const { wrapper } = await mountPage(GroupsView, '/page', 'notify-groups')
    await settle(20)
    testButtons()[0].click()
    await settle(30)
    const alert = document.querySelector('.test-result')!.textContent!
    expect(alert).toContain('未送达')
    expect(alert).toContain('93000')
    expect(alert).toContain('请更换 webhook 地址')
    // the list is read again: the group shows disabled and offers no test
    expect(srv.calls.filter((c) => c.method === 'GET' && c.path === '/api/v1/notification-groups')).toHaveLength(2)
    await vi.waitFor(() => expect(testButtons()).toHaveLength(0))
    wrapper.unmount()
  })

  it("shows the API's refusal as it is", async () => {
    server({
      'GET /api/v1/notification-groups': () => json(200, { items: [active], next_cursor: '' }),
      'POST /api/v1/notification-groups/8/test': () => apiError(409, 'notification_group_disabled', '通知群已停用,不能发送测试消息;请先启用或更换 webhook 地址'),
    })
    const { wrapper } = await mountPage(GroupsView, '/page', 'notify-groups')
    await settle(20)
    testButtons()[0].click()
    await settle(20)
    await vi.waitFor(() => expect(document.querySelector('.error-notice')?.textContent).toContain('通知群已停用'))
    expect(document.querySelector('.test-result')).toBeNull()
    wrapper.unmount()
  })
})

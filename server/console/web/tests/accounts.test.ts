import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createMemoryHistory, createRouter, RouterView } from 'vue-router'
import { defineComponent, h } from 'vue'
import OneTimePasswordDialog from '../src/components/OneTimePasswordDialog.vue'
import ChangePasswordView from '../src/views/ChangePasswordView.vue'
import { clearSession, session, setSession } from '../src/api/session'
import { apiError, fakeServer, json, settle } from './fake'

const Blank = defineComponent({ render: () => h('div', 'units page') })
const user = { id: 9, role: 'county_staff' as const, display_name: '大厂县局', username: 'dachang2', region_code: '131028000000' }

describe('the one-time password dialog', () => {
  afterEach(() => {
    document.body.innerHTML = ''
    vi.unstubAllGlobals()
  })

  function open(props: Record<string, unknown> = {}) {
    return mount(OneTimePasswordDialog, {
      props: { modelValue: true, title: '账号已创建', username: 'dachang2', password: 'Xy7#kP2m-Qa9!wEr', ...props },
      global: { plugins: [ElementPlus] },
      attachTo: document.body,
    })
  }

  it('shows the password once with a warning, and copies it', async () => {
    const writeText = vi.fn(() => Promise.resolve())
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } })
    vi.stubGlobal('isSecureContext', true)
    const w = open()
    await settle(10)
    const dlg = document.querySelector('.otp-dialog')!
    expect(dlg.textContent).toContain('一次性密码只显示这一次')
    expect(dlg.textContent).toContain('关闭后无法再查看')
    expect(dlg.textContent).toContain('dachang2')
    expect((document.querySelector('#otp-value') as HTMLInputElement).value).toBe('Xy7#kP2m-Qa9!wEr')
    ;(document.querySelector('.otp-copy') as HTMLButtonElement).click()
    await settle(5)
    expect(writeText).toHaveBeenCalledWith('Xy7#kP2m-Qa9!wEr')
    expect(document.querySelector('.otp-copied')?.textContent).toContain('已复制')
    w.unmount()
  })

  it('falls back to selecting the text where the clipboard API is not allowed (plain http)', async () => {
    vi.stubGlobal('isSecureContext', false)
    const exec = vi.fn(() => false)
    document.execCommand = exec as unknown as typeof document.execCommand
    const w = open()
    await settle(10)
    ;(document.querySelector('.otp-copy') as HTMLButtonElement).click()
    await settle(5)
    expect(exec).toHaveBeenCalledWith('copy')
    expect(document.querySelector('.otp-copied')?.textContent).toContain('Ctrl+C')
    w.unmount()
  })

  it('tells the parent when it closes, so the parent forgets the password', async () => {
    const w = open()
    await settle(10)
    const close = [...document.querySelectorAll('.otp-dialog button')].find((b) => b.textContent?.includes('我已记下')) as HTMLButtonElement
    close.click()
    await settle(5)
    expect(w.emitted('update:modelValue')?.at(-1)).toEqual([false])
    expect(w.emitted('closed')).toHaveLength(1)
    w.unmount()
  })
})

describe('the forced password change', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'first', user: { ...user, must_change_password: true } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  async function page() {
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/password', name: 'change-password', component: ChangePasswordView },
        { path: '/units', name: 'units', component: Blank },
        { path: '/login', name: 'login', component: Blank },
      ],
    })
    await router.push('/password?redirect=%2Funits%3Fq%3Dx')
    await router.isReady()
    const App = defineComponent({ render: () => h(RouterView) })
    const w = mount(App, { global: { plugins: [ElementPlus, router] }, attachTo: document.body })
    await settle(10)
    return { w, router }
  }

  function fill(current: string, next: string, confirm = next) {
    for (const [id, v] of [
      ['#pw-current', current],
      ['#pw-new', next],
      ['#pw-confirm', confirm],
    ]) {
      const el = document.querySelector(id) as HTMLInputElement
      el.value = v
      el.dispatchEvent(new Event('input'))
    }
  }

  function fieldError(label: string) {
    const item = [...document.querySelectorAll('.el-form-item')].find((i) => i.querySelector('label')?.textContent?.startsWith(label))!
    return item.querySelector('.el-form-item__error')?.textContent ?? ''
  }

  it("shows the API's field errors beside the fields", async () => {
    fakeServer({
      'POST /api/v1/me/password': () => apiError(400, 'invalid_argument', '提交的内容有误:密码应包含大写字母、小写字母、数字、符号中的至少三种', [{ field: 'new_password', message: '密码应包含大写字母、小写字母、数字、符号中的至少三种' }]),
    })
    const { w, router } = await page()
    expect(document.body.textContent).toContain('您正在使用初始密码或被重置的密码')
    fill('Initial-otp-123', 'abcdefgh')
    ;(document.querySelector('.pw-submit') as HTMLButtonElement).click()
    await settle(20)
    await vi.waitFor(() => expect(fieldError('新密码')).toContain('至少三种'))
    expect(fieldError('当前密码')).toBe('')
    expect(router.currentRoute.value.name).toBe('change-password')
    w.unmount()
  })

  it('checks the repeated password before asking the server', async () => {
    const srv = fakeServer({})
    const { w } = await page()
    fill('Initial-otp-123', 'Abcdef12!', 'Abcdef12?')
    ;(document.querySelector('.pw-submit') as HTMLButtonElement).click()
    await settle(10)
    await vi.waitFor(() => expect(fieldError('再次输入新密码')).toContain('不一致'))
    expect(srv.calls).toHaveLength(0)
    w.unmount()
  })

  it('changes the password, takes the new session and continues where the officer was going', async () => {
    const srv = fakeServer({
      'POST /api/v1/me/password': () => json(200, { access_token: 'second', token_type: 'Bearer', expires_in: 900, user: { ...user, must_change_password: false } }),
    })
    const { w, router } = await page()
    fill('Initial-otp-123', 'Dachang-2026!')
    ;(document.querySelector('.pw-submit') as HTMLButtonElement).click()
    await settle(20)
    expect(srv.calls[0]).toMatchObject({ method: 'POST', auth: 'Bearer first', body: { current_password: 'Initial-otp-123', new_password: 'Dachang-2026!' } })
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/units?q=x'))
    expect(session.accessToken).toBe('second')
    expect(session.user?.must_change_password).toBe(false)
    w.unmount()
  })
})

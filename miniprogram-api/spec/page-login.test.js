'use strict'
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {createFakeWx, flush, pathOf} = require('./helpers/fake-wx')
const {createClient, setClient, getClient} = require('../miniprogram/api/client')
const {assertContract} = require('./helpers/app')

const BASE = 'https://api.test'
const F = require('./helpers/fixtures')
const tokens = F.tokens()
const err = (status, code, message) => ({statusCode: status, data: {code, message, details: [], request_id: 'r'}})

describe('login page', () => {
  let fake
  beforeEach(() => {
    fake = sim.installWx(createFakeWx())
    fake.contract = true
    setClient(createClient({baseURL: BASE}))
  })
  afterEach(() => assertContract({fake}))

  it('renders the WeChat login button with Vant', () => {
    const page = sim.render('pages/login/index')
    const btn = page.querySelector('#wechat-login')
    assert.ok(btn, 'button rendered')
    assert.match(btn.dom.innerHTML, /van-button--van-button--primary/, 'the Vant button rendered (its path resolved)')
    assert.match(btn.dom.textContent, /微信一键登录/)
  })

  it('a bound user goes straight home', async () => {
    fake.handler = () => ({statusCode: 200, data: tokens})
    const page = sim.render('pages/login/index')
    page.querySelector('#wechat-login').dispatchEvent('click')
    await flush(10)
    assert.deepEqual(fake.navigations, ['/pages/home/index'])
    assert.equal(getClient().isLoggedIn(), true)
    assert.deepEqual(fake.requests.map(r => r.data), [{code: 'code-1'}])
  })

  it('an unbound user binds with an invite code, checked on the phone before sending', async () => {
    fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/auth/wechat/login') return {statusCode: 200, data: {bind_ticket: 'TK', expires_in: 900}}
      if (p === '/api/v1/auth/wechat/bind') return {statusCode: 200, data: tokens}
      return F.error(404, 'not_found', '内容不存在')
    }
    const page = sim.render('pages/login/index')
    page.querySelector('#wechat-login').dispatchEvent('click')
    await flush(10)
    assert.equal(page.data.step, 'bind')
    assert.ok(page.querySelector('#invite'), 'the invite field is shown')
    assert.ok(page.querySelector('#bind-phone'), 'the phone button is shown')

    page.querySelector('#invite').dispatchEvent('change', {detail: 'abc'})
    page.querySelector('#bind-invite').dispatchEvent('click')
    await flush(5)
    assert.equal(page.data.inviteError, '邀请码为8位字母或数字,请核对')
    assert.match(page.querySelector('#invite').dom.textContent, /邀请码为8位字母或数字/)
    assert.equal(fake.requests.length, 1, 'nothing sent for a malformed code')

    page.querySelector('#invite').dispatchEvent('change', {detail: 'abcd2345'})
    page.querySelector('#bind-invite').dispatchEvent('click')
    await flush(10)
    assert.deepEqual(fake.requests[1].data, {bind_ticket: 'TK', invite_code: 'ABCD2345'})
    assert.deepEqual(fake.navigations, ['/pages/home/index'])
    assert.equal(fake.toasts[0].title, '绑定成功')
  })

  it("shows the server's message when binding is refused, and binds by phone code", async () => {
    let bindCalls = 0
    fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/auth/wechat/login') return {statusCode: 200, data: {bind_ticket: 'TK', expires_in: 900}}
      bindCalls++
      if (req.data.invite_code) return err(409, 'invite_used', '邀请码已被使用,请联系县民族工作部门重新发放')
      return {statusCode: 200, data: tokens}
    }
    const page = sim.render('pages/login/index')
    await page.instance.onWechatLogin()
    page.querySelector('#invite').dispatchEvent('change', {detail: 'ABCD2345'})
    await flush(2)
    await page.instance.onBindInvite()
    assert.equal(page.data.error, '邀请码已被使用,请联系县民族工作部门重新发放')
    assert.match(sim.text(page, '#error'), /邀请码已被使用/)
    page.querySelector('#bind-phone').dispatchEvent('getphonenumber', {detail: {code: 'PHONE1', errMsg: 'getPhoneNumber:ok'}})
    await flush(10)
    assert.equal(bindCalls, 2)
    assert.deepEqual(fake.requests[2].data, {bind_ticket: 'TK', phone_code: 'PHONE1'})
    assert.deepEqual(fake.navigations, ['/pages/home/index'])
  })

  it('someone not on the roster goes to self-nomination with the bind ticket', async () => {
    fake.handler = () => ({statusCode: 200, data: {bind_ticket: 'TK/+=', expires_in: 900}})
    const page = sim.render('pages/login/index')
    await page.instance.onWechatLogin()
    await flush(2)
    page.querySelector('#nominate').dispatchEvent('tap')
    await flush(2)
    assert.deepEqual(fake.navigations, ['/pages/nominate/index?ticket=TK%2F%2B%3D'])
  })

  it('a refused phone authorisation suggests the invite code; an expired ticket starts over', async () => {
    fake.handler = req => (pathOf(req) === '/api/v1/auth/wechat/login'
      ? {statusCode: 200, data: {bind_ticket: 'TK', expires_in: 900}}
      : err(401, 'bind_ticket_invalid', '绑定凭证无效'))
    const page = sim.render('pages/login/index')
    await page.instance.onWechatLogin()
    await page.instance.onPhone({detail: {errMsg: 'getPhoneNumber:fail user deny'}})
    assert.match(page.data.error, /邀请码绑定/)
    page.instance.onInvite({detail: 'ABCD2345'})
    await page.instance.onBindInvite()
    assert.equal(page.data.step, 'start')
    assert.match(page.data.error, /重新点击/)
  })

  it('staff log in with a password; empty fields are caught first; network errors show the fallback', async () => {
    const page = sim.render('pages/login/index')
    page.querySelector('#to-staff').dispatchEvent('tap')
    await flush(2)
    assert.equal(page.data.step, 'staff')
    page.querySelector('#staff-login').dispatchEvent('click')
    await flush(2)
    assert.equal(page.data.error, '请输入用户名和密码')
    page.querySelector('#username').dispatchEvent('change', {detail: 'dachang'})
    page.querySelector('#password').dispatchEvent('change', {detail: 'secret'})
    await flush(2)
    fake.handler = () => ({fail: 'timeout'})
    await page.instance.onStaffLogin()
    assert.equal(page.data.error, '网络不给力,请稍后重试')
    fake.handler = () => ({statusCode: 200, data: F.tokens(F.staffAccount())})
    fake.modalAnswer = false
    await page.instance.onStaffLogin()
    assert.deepEqual(fake.requests[1].data, {username: 'dachang', password: 'secret'})
    assert.equal(page.data.password, '', 'the password is not kept')
    await flush(4)
    assert.equal(fake.modals.length, 1, 'linking WeChat is offered')
    assert.equal(fake.requests.length, 2, 'declined: nothing linked')
    assert.deepEqual(fake.navigations, ['/pages/home/index'])
  })

  it('staff who accept link this WeChat for tip alerts; a refused link still lets them in', async () => {
    const page = sim.render('pages/login/index')
    page.instance.setData({step: 'staff', username: 'dachang', password: 'secret'})
    fake.modalAnswer = true
    fake.handler = req => /password\/login/.test(req.url) ? {statusCode: 200, data: F.tokens(F.staffAccount())}
      : {statusCode: 200, data: F.staffAccount()}
    await page.instance.onStaffLogin()
    await flush(6)
    const link = fake.requests.find(r => /\/api\/v1\/me\/wechat$/.test(r.url))
    assert.ok(link, 'POST /me/wechat sent')
    assert.equal(link.method, 'POST')
    assert.deepEqual(link.data, {code: 'code-1'})
    assert.equal(link.header.Authorization, 'Bearer A')
    assert.equal(fake.toasts.at(-1).title, '已绑定微信')
    assert.deepEqual(fake.navigations, ['/pages/home/index'])

    fake.navigations.length = 0
    page.instance.setData({password: 'secret'})
    fake.handler = req => /password\/login/.test(req.url) ? {statusCode: 200, data: F.tokens(F.staffAccount())}
      : F.error(409, 'wechat_already_bound', '该微信已绑定其他账号')
    await page.instance.onStaffLogin()
    await flush(6)
    assert.equal(fake.toasts.at(-1).title, '该微信已绑定其他账号')
    assert.deepEqual(fake.navigations, ['/pages/home/index'])
  })
})

'use strict'
// Every page and component in app.json is compiled by the official WXML compiler (wcc, through
// miniprogram-simulate) and rendered with a fake wx; a broken template fails here.
const sim = require('./helpers/sim')
const {describe, it, beforeEach} = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const os = require('os')
const path = require('path')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, recordView} = require('./helpers/app')
const qr = require('../miniprogram/utils/qr')

const app = JSON.parse(fs.readFileSync(path.join(sim.ROOT, 'app.json'), 'utf8'))

function api(req) {
  const p = pathOf(req)
  if (p === '/api/v1/me') return {statusCode: 200, data: {user: {id: 3, role: 'instructor', display_name: '马明'}, unit: {id: 1, name: '大厂镇政府', kind: 'township', kind_name: '乡镇', key_task: '宣传党的民族政策,做好民族团结进步创建工作'}}}
  if (p === '/api/v1/me/summary') return {statusCode: 200, data: {month: {from: '2024-05-01T00:00:00+08:00', counts: {visit: 7, tip: 2}, total: 9}, year: {from: '2024-01-01T00:00:00+08:00', counts: {}, total: 30}}}
  if (p === '/api/v1/bulletins/unread-count') return {statusCode: 200, data: {count: 3}}
  if (p === '/api/v1/bulletins') return {statusCode: 200, data: {items: [{id: 8, title: '五月工作简报', content: '内容', created_at: '2024-05-01T09:00:00+08:00', read: false}], next_cursor: ''}}
  if (p === '/api/v1/meetings') return {statusCode: 200, data: {items: [{id: 6, title: '五月例会', starts_at: '2024-05-20T09:00:00+08:00', place: '县民宗局三楼'}], next_cursor: ''}}
  if (p === '/api/v1/meetings/6/checkin-token') return {statusCode: 200, data: {token: 'MTG6-7Q2KX9', expires_in: 60}}
  if (p === '/api/v1/tips/1') return {statusCode: 200, data: recordView({timeline: [{id: 1, action: 'submit', action_name: '提交', from_status: '', to_status: 'submitted', note: '', data: {}, actor: {account_id: 3, role: 'instructor', name: '马明'}, created_at: '2024-05-01T09:31:00+08:00'}]})}
  if (/^\/api\/v1\/(records|tips|sentiments)$/.test(p)) return {statusCode: 200, data: {items: [], next_cursor: ''}}
  return {statusCode: 404, data: {code: 'not_found', message: '内容不存在', details: [], request_id: 'x'}}
}

const QUERIES = {
  'pages/record-form/index': {kind: 'visit'},
  'pages/record-detail/index': {kind: 'tip', id: '1'},
  'pages/meeting-qr/index': {id: '6', title: '五月例会'},
}

describe('every page', () => {
  let env
  beforeEach(() => {
    env = setup()
    env.fake.handler = api
  })

  for (const page of app.pages) {
    it(page + ' compiles, renders and loads', async () => {
      const comp = sim.render(page)
      assert.ok(comp.dom, 'rendered')
      if (comp.instance.onLoad) await comp.instance.onLoad(QUERIES[page] || {})
      await flush(8)
      assert.ok(comp.dom.textContent.trim().length > 0, 'shows something')
      assert.doesNotMatch(comp.dom.textContent, /undefined|NaN|\[object Object\]/)
      if (comp.instance.onUnload) comp.instance.onUnload()
      comp.detach()
    })
  }

  it('home shows my unit, its key task, this month\'s counts, unread bulletins and the next meeting', async () => {
    const comp = sim.render('pages/home/index')
    await comp.instance.onLoad()
    await flush(8)
    const t = comp.dom.textContent
    assert.match(t, /大厂镇政府/)
    assert.match(t, /宣传党的民族政策/)
    assert.deepEqual(comp.data.counts.map(c => c.n), [7, 0, 2, 0])
    assert.equal(comp.data.unread, 3)
    assert.match(t, /3条未读/)
    assert.match(t, /五月例会/)
  })

  it('home without a session goes to login', async () => {
    env.client.clearSession()
    const comp = sim.render('pages/home/index')
    await comp.instance.onLoad()
    assert.deepEqual(env.fake.navigations, ['/pages/login/index'])
  })

  it('meetings: RSVP and check in by scanning the QR code', async () => {
    env.fake.scanResult = 'MTG6-7Q2KX9'
    env.fake.handler = req => (req.method === 'POST' ? {statusCode: 200, data: {}} : api(req))
    const comp = sim.render('pages/meetings/index')
    await comp.instance.onLoad()
    await flush(3)
    comp.querySelector('#meeting-6 .rsvp-yes').dispatchEvent('click')
    await flush(5)
    comp.querySelector('#meeting-6 .scan').dispatchEvent('click')
    await flush(8)
    const posts = env.fake.requests.filter(r => r.method === 'POST')
    assert.deepEqual(posts.map(r => [pathOf(r), r.data]), [
      ['/api/v1/meetings/6/rsvp', {attending: true}], ['/api/v1/meetings/6/checkin', {token: 'MTG6-7Q2KX9'}]])
    assert.equal(comp.data.items[0].checked_in, true)
    assert.match(comp.dom.textContent, /已签到/)
  })

  it('bulletins: opening one sends the read receipt', async () => {
    env.fake.handler = req => (req.method === 'POST' ? {statusCode: 204, data: ''} : api(req))
    const comp = sim.render('pages/bulletins/index')
    await comp.instance.onLoad()
    await flush(3)
    assert.match(comp.dom.textContent, /未读/)
    comp.querySelector('#bulletin-8').dispatchEvent('tap')
    await flush(5)
    assert.equal(pathOf(env.fake.requests.find(r => r.method === 'POST')), '/api/v1/bulletins/8/read')
    assert.equal(comp.data.items[0].read, true)
  })

  it('the check-in code is shown as text and its QR matrix is well formed', async () => {
    const comp = sim.render('pages/meeting-qr/index')
    await comp.instance.onLoad({id: '6'})
    await flush(3)
    assert.equal(sim.text(comp, '#token'), 'MTG6-7Q2KX9')
    assert.equal(comp.data.qrReady, true)
    comp.instance.onUnload()
    const m = qr.matrix('MTG6-7Q2KX9')
    assert.equal(m.length, 21) // version 1
    // the three finder patterns: dark 7x7 rings in three corners
    for (const [r0, c0] of [[0, 0], [0, 14], [14, 0]]) {
      for (let i = 0; i < 7; i++) {
        assert.equal(m[r0][c0 + i], true)
        assert.equal(m[r0 + 6][c0 + i], true)
        assert.equal(m[r0 + i][c0], true)
      }
      assert.equal(m[r0 + 1][c0 + 1], false)
      assert.equal(m[r0 + 3][c0 + 3], true)
    }
  })

  it('a broken template fails to compile with the official compiler', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxml-'))
    fs.writeFileSync(path.join(dir, 'index.json'), '{"component": true}')
    fs.writeFileSync(path.join(dir, 'index.js'), 'Component({})')
    fs.writeFileSync(path.join(dir, 'index.wxml'), '<view class="a">\n  <text>{{ a </text>\n</view><view>')
    assert.throws(() => sim.simulate.load(path.join(dir, 'index'), {rootPath: dir}), /编译 \.wxml 文件错误/)
    fs.rmSync(dir, {recursive: true, force: true})
  })
})

'use strict'
// Drives the REAL client module (and the real outbox) against a running `shiliu serve` on the
// embedded default (temp SQLite + embedded Redis) with `shiliu fake-wechat` standing in for
// WeChat. wx.request / wx.uploadFile / wx.login are implemented over real HTTP here.
//
//   staff password login → create a unit and an instructor → invite code
//   → instructor wx.login → /auth/wechat/login (bind ticket) → bind with the invite → /me
//   → (if the server has the record routes) a tip with a photo through the outbox, whose first
//     answer is lost after the server stored it; the retry reuses the client_id: one record.
//
// Skipped only when `go` is not installed (CI has it).
const {describe, it, before, after} = require('node:test')
const assert = require('node:assert/strict')
const {spawn, spawnSync} = require('child_process')
const fs = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')
const zlib = require('zlib')
const {createFakeWx, pathOf} = require('./helpers/fake-wx')
const {createClient} = require('../miniprogram/api/client')
const {createOutbox} = require('../miniprogram/outbox/outbox')
const {toBeijingISO} = require('../miniprogram/utils/records')

const REPO = path.join(__dirname, '..', '..')
const hasGo = spawnSync('go', ['version'], {encoding: 'utf8'}).status === 0

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function waitFor(url, ms, proc) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (proc && proc.exitCode !== null) throw new Error('process exited with ' + proc.exitCode + ':\n' + proc.logs.join(''))
    try {
      const r = await fetch(url)
      if (r.status < 500) return
    } catch (e) {
      // not up yet
    }
    await new Promise(r => setTimeout(r, 250))
  }
  throw new Error('timed out waiting for ' + url + (proc ? '\n' + proc.logs.join('').slice(-3000) : ''))
}

function start(bin, args, env) {
  const p = spawn(bin, args, {env: Object.assign({}, process.env, env), stdio: ['ignore', 'pipe', 'pipe']})
  p.logs = []
  p.stdout.on('data', d => p.logs.push(String(d)))
  p.stderr.on('data', d => p.logs.push(String(d)))
  return p
}

/** A small valid PNG (solid colour), so the server's content sniffing accepts it. */
function png(w, h) {
  const crcTable = []
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    crcTable[n] = c >>> 0
  }
  const crc = buf => {
    let c = 0xffffffff
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const td = Buffer.concat([Buffer.from(type), data])
    const c = Buffer.alloc(4)
    c.writeUInt32BE(crc(td))
    return Buffer.concat([len, td, c])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(h, 4)
  ihdr[8] = 8
  ihdr[9] = 2 // RGB
  const raw = Buffer.alloc((w * 3 + 1) * h)
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0
    for (let x = 0; x < w; x++) raw.set([200, 22, 29], y * (w * 3 + 1) + 1 + x * 3)
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}

/** A wx whose network calls are real HTTP; `intercept(req, send)` may tamper with them. */
function httpWx(codes) {
  const wx = createFakeWx()
  wx.loginCodes = codes
  wx.intercept = (req, send) => send()
  wx.handler = req => wx.intercept(req, async () => {
    const headers = Object.assign({}, req.header)
    const init = {method: req.method || 'GET', headers, signal: AbortSignal.timeout(req.timeout || 20000)}
    if (req.data !== undefined && init.method !== 'GET') init.body = JSON.stringify(req.data)
    const res = await fetch(req.url, init)
    const text = await res.text()
    let data = text
    try {
      data = text ? JSON.parse(text) : ''
    } catch (e) {
      data = text
    }
    return {statusCode: res.status, data, header: Object.fromEntries(res.headers)}
  })
  wx.uploadHandler = req => wx.intercept(req, async () => {
    const fd = new FormData()
    fd.append(req.name, new Blob([fs.readFileSync(req.filePath)], {type: 'image/png'}), path.basename(req.filePath))
    const res = await fetch(req.url, {method: 'POST', headers: req.header, body: fd, signal: AbortSignal.timeout(req.timeout || 60000)})
    return {statusCode: res.status, data: await res.text(), header: Object.fromEntries(res.headers)}
  })
  return wx
}

describe('integration: the real client against shiliu serve', {skip: !hasGo && 'go is not installed'}, () => {
  if (!hasGo) {
    console.log('SKIP: integration test against shiliu serve: `go` not found on PATH (CI has it, so it runs there)')
    return
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shiliu-mp-'))
  // SHILIU_BIN: a prebuilt binary (skips the go build)
  const bin = process.env.SHILIU_BIN || path.join(tmp, 'shiliu')
  let serve
  let fakeWechat
  let base
  let env

  before(async () => {
    if (!process.env.SHILIU_BIN) {
      const build = spawnSync('go', ['build', '-o', bin, './server/cmd/shiliu'], {cwd: REPO, encoding: 'utf8', timeout: 8 * 60 * 1000})
      assert.equal(build.status, 0, 'go build failed:\n' + build.stderr)
    }
    const [wxPort, apiPort] = [await freePort(), await freePort()]
    env = {
      SHILIU_HTTP_ADDR: '127.0.0.1:' + apiPort,
      SHILIU_DATABASE_DSN: 'file:' + path.join(tmp, 'shiliu.db'),
      SHILIU_UPLOADS_DIR: path.join(tmp, 'uploads'),
      SHILIU_WECHAT_APPID: 'wx-test',
      SHILIU_WECHAT_SECRET: 'test-secret',
      SHILIU_WECHAT_API_BASE: 'http://127.0.0.1:' + wxPort,
      SHILIU_WECOM_API_BASE: 'http://127.0.0.1:' + wxPort,
      SHILIU_LOG_LEVEL: process.env.SHILIU_TEST_LOG ? 'info' : 'warn',
    }
    fakeWechat = start(bin, ['fake-wechat', '--addr', '127.0.0.1:' + wxPort], {})
    // the county staff account, password through standard input
    const create = spawnSync(bin, ['user', 'create', '--username', 'dachang', '--role', 'county_staff', '--region', '131028', '--name', '大厂县民宗局'],
      {env: Object.assign({}, process.env, env), input: 'Shiliu-Test-Passw0rd!\n', encoding: 'utf8', timeout: 120000})
    assert.equal(create.status, 0, 'user create failed:\n' + create.stdout + create.stderr)
    serve = start(bin, ['serve'], env)
    base = 'http://127.0.0.1:' + apiPort
    await waitFor(base + '/healthz', 60000, serve)
  })

  after(() => {
    for (const p of [serve, fakeWechat]) {
      if (p && p.exitCode === null) {
        p.kill('SIGTERM')
        setTimeout(() => { if (p.exitCode === null) p.kill('SIGKILL') }, 5000).unref()
      }
    }
    delete global.wx
    fs.rmSync(tmp, {recursive: true, force: true})
  })

  it('staff sets up a unit and an instructor; the instructor logs in with WeChat, binds with the invite and reaches /me; a tip goes through the outbox once', async () => {
    // ---- county staff, password login through the real client
    global.wx = httpWx([])
    const staff = createClient({baseURL: base})
    const login = await staff.passwordLogin('dachang', 'Shiliu-Test-Passw0rd!')
    assert.equal(login.user.role, 'county_staff')
    const unit = await staff.post('/api/v1/units', {name: '大厂镇政府', kind: 'township', region_code: '131028000000'})
    assert.ok(unit.id)
    assert.ok(unit.key_task.length > 0)
    const instructor = await staff.post('/api/v1/instructors', {name: '马明', gender: 'male', ethnicity: '03', phone: '13812345678',
      source_category: 'village_committee', unit_id: unit.id})
    const invite = await staff.post('/api/v1/instructors/' + instructor.id + '/invite')
    assert.match(invite.invite_code, /^[2-9A-HJKMNP-Z]{8}$/)
    // a server error arrives in Chinese through the client
    const dup = await staff.post('/api/v1/units', {name: '大厂镇政府', kind: 'township', region_code: '131028000000'}).catch(e => e)
    assert.equal(dup.status, 409)
    assert.match(dup.message, /[\u4e00-\u9fa5]/)

    // ---- the instructor's phone: wx.login gives a code the fake WeChat knows
    const phone = httpWx(['c1'])
    global.wx = phone
    const mp = createClient({baseURL: base})
    const first = await mp.wechatLogin()
    assert.ok(first.bindTicket, 'an unbound WeChat user gets a bind ticket')
    await mp.bind(first.bindTicket, {inviteCode: invite.invite_code.toLowerCase()})
    const me = await mp.me()
    assert.equal(me.user.role, 'instructor')
    assert.equal(me.instructor.id, instructor.id)
    assert.equal(me.unit.id, unit.id)

    // ---- records, if the server has them yet
    const probe = await mp.get('/api/v1/tips').catch(e => e)
    if (probe instanceof Error && probe.status === 404) {
      console.log('SKIP: the server has no /api/v1/tips yet: outbox part not run')
      return
    }
    const photo = path.join(tmp, 'photo.png')
    fs.writeFileSync(photo, png(16, 16))
    const outbox = createOutbox({client: mp, setTimer: () => null, clearTimer: () => {}})
    let posts = 0
    let uploads = 0
    phone.intercept = async (req, send) => {
      if (req.method === 'UPLOAD') uploads++
      if (req.method === 'POST' && pathOf(req) === '/api/v1/tips') {
        posts++
        const res = await send()
        // the first answer is lost on the way back, after the server stored the record
        if (posts === 1) {
          assert.equal(res.statusCode, 201)
          return {fail: 'interrupted'}
        }
        assert.equal(res.statusCode, 200, 'the retry is recognised as the same submission')
        return res
      }
      return send()
    }
    const d = outbox.submit({kind: 'tip', attachments: [{path: photo, type: 'image'}], record: {
      title: '村口有人聚集', occurred_at: toBeijingISO(new Date(Date.now() - 600000)), place: '大厂镇',
      tip: {level: 'serious', kind: 'sign', people_involved: 20, groups_involved: '村民', description: '二十多人聚集,情绪激动', ongoing: true}}})
    await outbox.flush()
    assert.equal(outbox.get(d.client_id).state, 'queued', 'kept for a retry')
    await outbox.flush({force: true})
    const sent = outbox.get(d.client_id)
    assert.equal(sent.state, 'submitted', JSON.stringify(sent.error))
    assert.equal(posts, 2)
    assert.equal(uploads, 1, 'the photo was uploaded once')

    const list = await staff.get('/api/v1/tips', {limit: 100})
    const mine = list.items.filter(t => t.client_id === d.client_id)
    assert.equal(mine.length, 1, 'stored exactly once')
    assert.equal(mine[0].id, sent.server_id)
    assert.equal(mine[0].attachments.length, 1)
    assert.equal(mine[0].tip.level, 'serious')
  })

  it('the staff refresh token rotates through the client', async () => {
    global.wx = httpWx([])
    const staff = createClient({baseURL: base})
    await staff.passwordLogin('dachang', 'Shiliu-Test-Passw0rd!')
    const first = staff.session().refresh_token
    await staff.refresh()
    assert.notEqual(staff.session().refresh_token, first)
    assert.equal((await staff.me()).user.role, 'county_staff')
  })

  // Found by this test: POST /api/v1/auth/refresh with an instructor's (WeChat-bound) refresh
  // token hangs on the embedded SQLite default until the client gives up, while a staff token
  // refreshes at once. Server-side (Go) issue, reported; kept as a todo so it shows in every run.
  it('the instructor refresh token rotates through the client', {todo: 'server: instructor refresh hangs on SQLite'}, async () => {
    const phone = httpWx(['c9'])
    global.wx = phone
    const staff = createClient({baseURL: base})
    await staff.passwordLogin('dachang', 'Shiliu-Test-Passw0rd!')
    const units = await staff.get('/api/v1/units', {limit: 1})
    const inst = await staff.post('/api/v1/instructors', {name: '李华', gender: 'female', ethnicity: '11', phone: '13912345678',
      source_category: 'mediator', unit_id: units.items[0].id})
    const invite = await staff.post('/api/v1/instructors/' + inst.id + '/invite')
    const mp = createClient({baseURL: base, requestTimeout: 5000})
    const first = await mp.wechatLogin()
    await mp.bind(first.bindTicket, {inviteCode: invite.invite_code})
    const before = mp.session().refresh_token
    await mp.refresh()
    assert.notEqual(mp.session().refresh_token, before)
  })
})

// Starts the real server for the integration test and the field measurement: `go build` once (or
// SHILIU_BIN), `shiliu fake-wechat`, a county staff account, and `shiliu serve` on the embedded
// default (temp SQLite, embedded Redis), all on 127.0.0.1.
'use strict'
const {spawn, spawnSync} = require('child_process')
const fs = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')

const REPO = path.join(__dirname, '..', '..', '..')
const STAFF = {username: 'dachang', password: 'Shiliu-Test-Passw0rd!', region: '131028', name: '大厂县民宗局'}

function hasGo() {
  return spawnSync('go', ['version'], {encoding: 'utf8'}).status === 0
}

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

/**
 * Waits until url answers. With `ready`, also until ready() holds (proc's own word that it serves
 * there): a port handed out by freePort may be taken by another process before proc binds it, and
 * that process's answer must not pass for proc's.
 */
async function waitFor(url, ms, proc, ready) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (proc && proc.exitCode !== null) {
      const err = new Error('process exited with ' + proc.exitCode + ':\n' + proc.logs.join(''))
      err.addressInUse = /address already in use/i.test(proc.logs.join(''))
      throw err
    }
    try {
      if (!ready || ready()) {
        const r = await fetch(url)
        if (r.status < 500) return
      }
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

/** Builds shiliu from the current tree into dir (or uses SHILIU_BIN). Returns the binary's path. */
function build(dir) {
  if (process.env.SHILIU_BIN) return process.env.SHILIU_BIN
  const bin = path.join(dir, 'shiliu')
  const t = Date.now()
  const r = spawnSync('go', ['build', '-o', bin, './server/cmd/shiliu'], {cwd: REPO, encoding: 'utf8', timeout: 9 * 60 * 1000})
  if (r.status !== 0) throw new Error('go build failed:\n' + r.stderr)
  if (process.env.SHILIU_TEST_LOG) console.log('go build: ' + (Date.now() - t) + ' ms')
  return bin
}

/**
 * Starts fake WeChat and the server. Returns {base, bin, env, tmp, stop()}.
 * @param {object} [o]
 * @param {object} [o.env] more SHILIU_* settings
 */
async function startServer(o) {
  const opts = o || {}
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shiliu-mp-'))
  const bin = build(tmp)
  const wxPort = await freePort()
  const env = Object.assign({
    SHILIU_DATABASE_DSN: 'sqlite:' + path.join(tmp, 'shiliu.db'),
    SHILIU_UPLOADS_DIR: path.join(tmp, 'uploads'),
    SHILIU_SECRETS_FILE: path.join(tmp, 'secrets.json'),
    SHILIU_WECHAT_APPID: 'wx-test',
    SHILIU_WECHAT_SECRET: 'test-secret',
    SHILIU_WECHAT_API_BASE: 'http://127.0.0.1:' + wxPort,
    SHILIU_WECOM_API_BASE: 'http://127.0.0.1:' + wxPort,
    // info: one access-log line per request (with the phone's X-Request-ID), for a post-mortem
    SHILIU_LOG_LEVEL: 'info',
  }, opts.env || {})
  const fakeWechat = start(bin, ['fake-wechat', '--addr', '127.0.0.1:' + wxPort], {})
  const create = spawnSync(bin, ['user', 'create', '--username', STAFF.username, '--role', 'county_staff', '--region', STAFF.region, '--name', STAFF.name],
    {env: Object.assign({}, process.env, env), input: STAFF.password + '\n', encoding: 'utf8', timeout: 120000})
  if (create.status !== 0) throw new Error('user create failed:\n' + create.stdout + create.stderr)
  // The port is picked just before serve binds it; if another process took it meanwhile, serve
  // exits and is started again on another.
  let serve
  let base
  for (let attempt = 1; ; attempt++) {
    const apiPort = await freePort()
    env.SHILIU_HTTP_ADDR = '127.0.0.1:' + apiPort
    base = 'http://127.0.0.1:' + apiPort
    serve = start(bin, ['serve'], env)
    const s = serve
    try {
      await waitFor(base + '/healthz', 60000, s, () => s.logs.join('').split('\n').some(l => /listening/.test(l) && l.includes('127.0.0.1:' + apiPort)))
      break
    } catch (e) {
      if (!e.addressInUse || attempt >= 3) {
        fakeWechat.kill('SIGTERM')
        if (s.exitCode === null) s.kill('SIGTERM')
        throw e
      }
    }
  }
  const srv = {
    base, bin, env, tmp, serve, fakeWechat,
    // Set by a test that failed (or SHILIU_TEST_KEEP=1): the temp directory (database, uploads,
    // server.log) is left for a post-mortem.
    keep: !!process.env.SHILIU_TEST_KEEP,
    stop() {
      for (const p of [serve, fakeWechat]) {
        if (p && p.exitCode === null) {
          p.kill('SIGTERM')
          setTimeout(() => { if (p.exitCode === null) p.kill('SIGKILL') }, 5000).unref()
        }
      }
      if (process.env.SHILIU_TEST_LOG) console.log(serve.logs.join(''))
      if (srv.keep) {
        try {
          fs.writeFileSync(path.join(tmp, 'server.log'), serve.logs.join(''))
        } catch (e) {
          // best effort
        }
        console.log('kept for a post-mortem: ' + tmp + ' (shiliu.db, uploads/, server.log)')
        return
      }
      try {
        fs.rmSync(tmp, {recursive: true, force: true})
      } catch (e) {
        // the server may still hold files for a moment
      }
    },
  }
  return srv
}

/**
 * Staff sets up a unit and an instructor with an invite; the instructor's phone (a client over
 * `phoneWx` pointed at `phoneBase`) logs in with WeChat and binds. Returns {staff, mp, unit, instructor}.
 */
async function enrolInstructor({createClient, httpWx, base, phoneBase, code, name, phone, unitName, clientOptions}) {
  global.wx = httpWx([])
  const staff = createClient({baseURL: base})
  await staff.passwordLogin(STAFF.username, STAFF.password)
  const unit = await staff.post('/api/v1/units', {name: unitName, kind: 'village', region_code: '131028100000'})
  const instructor = await staff.post('/api/v1/instructors', {name, gender: 'male', ethnicity: '03', phone,
    source_category: 'village_committee', unit_id: unit.id})
  const invite = await staff.post('/api/v1/instructors/' + instructor.id + '/invite')
  const phoneWx = httpWx([code])
  global.wx = phoneWx
  const mp = createClient(Object.assign({baseURL: phoneBase || base}, clientOptions || {}))
  const first = await mp.wechatLogin()
  await mp.bind(first.bindTicket, {inviteCode: invite.invite_code})
  return {staff, mp, phoneWx, unit, instructor}
}

module.exports = {startServer, enrolInstructor, hasGo, freePort, STAFF, REPO}

// Starts a real `shiliu serve` for the browser tests: built from this checkout, on a free local
// port, with its own data directory (SQLite + embedded Redis by default; MariaDB + Redis when
// SHILIU_E2E_DATABASE_DSN and SHILIU_E2E_REDIS_URL are set), seeded with the demo county and its
// staff accounts plus an officer of another county.
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

const repo = path.resolve(import.meta.dirname, '../../../..')

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

export async function startServer(log = () => {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiliu-e2e-'))
  const bin = path.join(dir, 'shiliu')
  log('building shiliu…')
  execFileSync('go', ['build', '-o', bin, './server/cmd/shiliu'], { cwd: repo, stdio: 'inherit' })
  const port = await freePort()
  const env = {
    ...process.env,
    SHILIU_MODE: 'dev',
    SHILIU_HTTP_ADDR: '127.0.0.1:' + port,
    SHILIU_DATABASE_DSN: 'sqlite:' + path.join(dir, 'shiliu.db'),
    SHILIU_UPLOADS_DIR: path.join(dir, 'uploads'),
    SHILIU_LOG_FORMAT: 'json',
    SHILIU_BCRYPT_COST: '4',
    SHILIU_CONFIG: path.join(dir, 'shiliu.yaml'),
  }
  // Every flow signs in from 127.0.0.1: the limit of 20 password attempts a minute per address
  // would refuse the flows that happen to share a minute (seen on the MariaDB pass).
  fs.writeFileSync(env.SHILIU_CONFIG, 'security:\n  login_attempts_per_minute: 1000\n')
  // the fake WeChat (`shiliu fake-wechat`), so an instructor can sign in through the API as the
  // mini-program does: any login code is a WeChat user of its own
  const wxPort = await freePort()
  const wx = spawn(bin, ['fake-wechat', '--addr', '127.0.0.1:' + wxPort], { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'] })
  env.SHILIU_WECHAT_APPID = 'wxe2e0000000000000'
  env.SHILIU_WECHAT_SECRET = 'e2e-secret'
  env.SHILIU_WECHAT_API_BASE = 'http://127.0.0.1:' + wxPort
  env.SHILIU_WECOM_API_BASE = 'http://127.0.0.1:' + wxPort
  if (process.env.SHILIU_E2E_DATABASE_DSN) env.SHILIU_DATABASE_DSN = process.env.SHILIU_E2E_DATABASE_DSN
  if (process.env.SHILIU_E2E_REDIS_URL) {
    env.SHILIU_REDIS_URL = process.env.SHILIU_E2E_REDIS_URL
    env.SHILIU_REDIS_PREFIX = 'e2e' + port + ':'
  }
  log('seeding the demo county…')
  const seed = execFileSync(bin, ['seed-demo'], { cwd: dir, env, encoding: 'utf8' })
  const accounts = {}
  for (const m of seed.matchAll(/staff account (\S+)\s+(\S+)\s+password (\S+)/g)) accounts[m[1]] = { username: m[1], role: m[2], password: m[3] }
  const other = { username: 'guan', role: 'county_staff', password: 'Langfang2026-other' }
  execFileSync(bin, ['user', 'create', '--username', other.username, '--role', other.role, '--region', '131022', '--name', '固安县民宗局'], {
    cwd: dir,
    env,
    input: other.password + '\n',
    encoding: 'utf8',
  })
  accounts.guan = other
  // the system administrator (三员分立: accounts only), made with the command line as in production
  const admin = { username: 'sysadmin', role: 'admin', password: 'Hebei-admin-2026' }
  execFileSync(bin, ['user', 'create', '--username', admin.username, '--role', admin.role, '--region', '13', '--name', '系统管理员'], {
    cwd: dir,
    env,
    input: admin.password + '\n',
    encoding: 'utf8',
  })
  accounts.sysadmin = admin
  const logFile = path.join(dir, 'serve.log')
  const out = fs.openSync(logFile, 'a')
  const proc = spawn(bin, ['serve'], { cwd: dir, env, stdio: ['ignore', out, out] })
  const base = 'http://127.0.0.1:' + port
  for (let i = 0; i < 240; i++) {
    try {
      const r = await fetch(base + '/readyz')
      if (r.ok) break
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error('shiliu serve exited: ' + fs.readFileSync(logFile, 'utf8').slice(-2000))
    await new Promise((r) => setTimeout(r, 250))
  }
  log('shiliu serve on ' + base)
  return {
    base,
    // the fake WeChat and WeCom: GET /_fake/messages lists what they were sent
    wx: 'http://127.0.0.1:' + wxPort,
    accounts,
    logFile,
    dir,
    async stop() {
      proc.kill('SIGTERM')
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)))
      wx.kill('SIGTERM')
      if (!process.env.SHILIU_E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

// api calls the server directly, as a test's own setup or to show what the API refuses.
export async function login(base, { username, password }) {
  const r = await fetch(base + '/api/v1/auth/password/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  if (!r.ok) throw new Error('login ' + username + ': ' + r.status + ' ' + (await r.text()))
  return (await r.json()).access_token
}

export async function call(base, token, method, p, body) {
  const r = await fetch(base + p, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await r.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  return { status: r.status, body: json }
}

// instructorLogin binds an instructor to a new fake WeChat user with an invite code the county
// issues, as the mini-program does, and returns the instructor's access token.
let wxCodes = 0
export async function instructorLogin(base, staffToken, instructorId) {
  const inv = await call(base, staffToken, 'POST', `/api/v1/instructors/${instructorId}/invite`)
  if (inv.status !== 201) throw new Error('invite: ' + inv.status + ' ' + JSON.stringify(inv.body))
  const wx = await call(base, '', 'POST', '/api/v1/auth/wechat/login', { code: `e2e-${process.pid}-${++wxCodes}-${Date.now()}` })
  if (wx.status !== 200 || !wx.body.bind_ticket) throw new Error('wechat login: ' + wx.status + ' ' + JSON.stringify(wx.body))
  const bind = await call(base, '', 'POST', '/api/v1/auth/wechat/bind', { bind_ticket: wx.body.bind_ticket, invite_code: inv.body.invite_code })
  if (bind.status !== 200) throw new Error('bind: ' + bind.status + ' ' + JSON.stringify(bind.body))
  return bind.body.access_token
}

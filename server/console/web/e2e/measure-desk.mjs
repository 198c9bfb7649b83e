// Measures the tip desk under load: `npm run measure:desk` (with SHILIU_E2E_DATABASE_DSN and
// SHILIU_E2E_REDIS_URL for MariaDB + Redis). Not part of `test:browser`: it runs for minutes and
// reports numbers for docs/performance.md instead of passing or failing on a time.
//
// The load is the alert test's (server/notify/latency): 30 bound instructors in 10 counties of the
// demo city, one county-staff robot group per county, each phone submitting a tip every 5 s and visit
// logs back to back in between. Meanwhile the duty officer of the demo county (大厂) has the tip desk
// open in Chromium, and one more instructor of that county submits a tip every few seconds; each
// sample is the time from the start of that tip's POST to its row being in the desk's table.
import fs from 'node:fs'
import path from 'node:path'
import { startServer, login as apiLogin, call, instructorLogin } from './server.mjs'
import { openBrowser, newPage, login, outDir } from './browser.mjs'
import { recordBody } from './measure-body.mjs'
import { Worker } from 'node:worker_threads'

const seconds = Number(process.env.MEASURE_SECONDS || 120)
const every = Number(process.env.MEASURE_EVERY_MS || 3000)
const log = (m) => console.log('# ' + m)

function pct(sorted, p) {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

function summary(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return { n: s.length, p50: pct(s, 50), p90: pct(s, 90), p99: pct(s, 99), max: s.at(-1) }
}

let phoneSeq = 0
function phoneNumber() {
  return '139' + String((process.pid * 1000 + ++phoneSeq) % 1e8).padStart(8, '0')
}

async function must(r, want, what) {
  if (r.status !== want) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

// instructorIn registers a unit and an instructor in township and binds a phone to it.
async function instructorIn(base, token, township, name) {
  const unit = await must(
    await call(base, token, 'POST', '/api/v1/units', { name: name + '村' + Date.now() + phoneSeq, kind: 'village', region_code: township }),
    201,
    'unit',
  )
  const ins = await must(
    await call(base, token, 'POST', '/api/v1/instructors', {
      name, gender: 'male', ethnicity: '03', phone: phoneNumber(), source_category: 'village_committee', unit_id: unit.id,
    }),
    201,
    'instructor',
  )
  return instructorLogin(base, token, ins.id)
}

const srv = await startServer(log)
const base = srv.base
let browser
try {
  const province = await apiLogin(base, srv.accounts.hebei)
  const county = await apiLogin(base, srv.accounts.dachang)
  // ten counties of the demo city, the demo county first
  const cityCounties = (await must(await call(base, '', 'GET', '/api/v1/regions?parent=131000'), 200, 'regions')).items
  const counties = [cityCounties.find((c) => c.code.startsWith('131028')), ...cityCounties.filter((c) => !c.code.startsWith('131028'))].slice(0, 10)
  const phones = []
  let deskTownship
  for (const [i, c] of counties.entries()) {
    const township = (await must(await call(base, '', 'GET', '/api/v1/regions?parent=' + c.code), 200, 'townships')).items[0].code
    await must(
      await call(base, province, 'POST', '/api/v1/notification-groups', {
        name: c.name + '民宗局', region_code: c.code, audience: 'county_staff', webhook_key: `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=measure-${i}-${Date.now()}`,
      }),
      201,
      'robot group',
    )
    for (let k = 0; k < 3; k++) phones.push(await instructorIn(base, province, township, `负载${i}${k}`))
    if (i === 0) deskTownship = township
  }
  const measured = await instructorIn(base, county, deskTownship, '测量员')
  log(`${phones.length} loading phones in ${counties.length} counties, one measuring phone in ${counties[0].name}`)

  browser = await openBrowser()
  const page = await newPage(browser)
  await login(page, base, srv.accounts.dachang)
  await page.getByRole('menuitem', { name: '线索台' }).click()
  await page.locator('.desk-state', { hasText: '实时' }).waitFor()
  await page.waitForLoadState('networkidle')

  // the load, from a thread of its own
  const stopAt = Date.now() + seconds * 1000
  const load = new Worker(new URL('./measure-load.mjs', import.meta.url), { workerData: { base, tokens: phones, until: stopAt } })
  const loaded = new Promise((resolve, reject) => {
    load.once('message', resolve)
    load.once('error', reject)
  })

  // where each sample's time goes: the browser's read of the one tip, seen on the wire
  const reads = new Map()
  const tipOf = (url) => /\/api\/v1\/tips\/(\d+)$/.exec(new URL(url).pathname)?.[1]
  page.on('request', (r) => {
    const id = tipOf(r.url())
    if (id && !reads.has(id)) reads.set(id, { issued: Date.now() })
  })
  page.on('requestfinished', (r) => {
    const id = tipOf(r.url())
    if (id && reads.get(id) && !reads.get(id).finished) reads.get(id).finished = Date.now()
  })
  const stages = { toRead: [], read: [], toRow: [] }

  // the samples
  const deskMs = []
  const started = Date.now()
  for (let i = 1; Date.now() + every < stopAt; i++) {
    const slot = started + i * every
    while (Date.now() < slot) await new Promise((r) => setTimeout(r, 20))
    const title = `测量线索${i}`
    const t0 = Date.now()
    const r = await call(base, measured, 'POST', '/api/v1/tips', recordBody('tip', title))
    if (r.status !== 201) {
      log(`measured tip ${i}: ${r.status} ${JSON.stringify(r.body)}`)
      continue
    }
    await page.locator('.desk-table .el-table__row', { hasText: title }).waitFor({ timeout: 30000 })
    const shown = Date.now()
    deskMs.push(shown - t0)
    const rd = reads.get(String(r.body.id))
    if (rd?.finished) {
      stages.toRead.push(rd.issued - t0)
      stages.read.push(rd.finished - rd.issued)
      stages.toRow.push(shown - rd.finished)
    }
  }
  const { submitMs, errors, tips, visits } = await loaded
  const loadSeconds = (Date.now() - started) / 1000

  // the robot alerts of the load's tips (the fake WeCom keeps what it was sent)
  await new Promise((r) => setTimeout(r, 3000))
  const sent = await (await fetch(srv.wx + '/_fake/messages')).json()
  const robot = sent.messages.filter((m) => m.channel === 'robot')
  const alerted = new Set(robot.flatMap((m) => [...(m.content || '').matchAll(/(负载|测量)线索[\d-]+/g)].map((x) => x[0])))

  const backend = process.env.SHILIU_E2E_DATABASE_DSN ? 'MariaDB + Redis' : 'SQLite + embedded Redis'
  const result = {
    backend,
    seconds: loadSeconds,
    load: { phones: phones.length, counties: counties.length, tips, visits, perSecond: Math.round((tips + visits + deskMs.length) / loadSeconds), errors },
    submitMs: summary(submitMs),
    tipToDeskMs: summary(deskMs),
    // POST started → the desk asks for the tip (commit, wake, stream, browser); that read; → row seen
    stagesMs: { toRead: summary(stages.toRead), read: summary(stages.read), toRow: summary(stages.toRow) },
    samples: deskMs,
    // tips whose title reached a county group's robot (each tip once: the set counts titles)
    robotMessages: robot.length,
    tipsAlerted: alerted.size,
    tipsSubmitted: tips + deskMs.length,
    loadAverage: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  }
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, 'desk-measure.json'), JSON.stringify(result, null, 2))
  console.log(JSON.stringify(result, null, 2))
} finally {
  await browser?.close().catch(() => {})
  await srv.stop()
}

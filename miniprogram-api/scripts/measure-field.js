#!/usr/bin/env node
// Field conditions, measured (npm run measure:field): how long 50 records with one photo each,
// queued on the phone while offline, take to reach the server over a 2G-like link, and what each
// costs on the wire.
//
// The real client and outbox (with the app's own timeouts, config.js) talk to a real
// `shiliu serve` (go build from this tree, or SHILIU_BIN) through a proxy that shapes every byte:
// one link per direction shared by all connections, 50 kbit/s each way, 150 ms one way (300 ms
// round trip), 5 % of 1400-byte segments lost and sent again (see spec/helpers/faulty-proxy.js,
// createLink). Each photo is a deterministic JPEG of about 77 KB (1280×960, what wx.chooseMedia
// with sizeType ['compressed'] gives for a phone photo).
//
//   node scripts/measure-field.js [--records 50] [--kbps 50] [--rtt 300] [--loss 0.05] [--seed 7] [--json out.json]
//
// The outbox sends text first (each record with its photos declared by client_id, then the
// photos): the measurement gives the time to every record's text, to the urgent tip's robot alert
// at the county group (the last draft is a major tip with a photo; a robot group of the county is
// registered, and the fake WeCom's GET /_fake/messages is polled every 100 ms), and to every photo.
//
// Prints a Markdown summary (copied into docs/field-conditions.md). Takes about 15 minutes.
'use strict'
const fs = require('fs')
const path = require('path')
const {httpWx} = require('../spec/helpers/http-wx')
const {startServer, enrolInstructor, hasGo} = require('../spec/helpers/server')
const {createProxy, createLink, rng} = require('../spec/helpers/faulty-proxy')
const {photo} = require('../spec/helpers/photo')
const {draftRecord} = require('../spec/helpers/drafts')
const {createClient} = require('../miniprogram/api/client')
const {createOutbox} = require('../miniprogram/outbox/outbox')
const config = require('../miniprogram/config')

function arg(name, dflt) {
  const i = process.argv.indexOf('--' + name)
  return i >= 0 ? process.argv[i + 1] : dflt
}

const N = Number(arg('records', 50))
const KBPS = Number(arg('kbps', 50))
const RTT = Number(arg('rtt', 300))
const LOSS = Number(arg('loss', 0.05))
const SEED = Number(arg('seed', 7))
const MSS = 1400

const RECORD_PATH = /^\/api\/v1\/(visits|sentiments|tips|mediations)$/

function kb(n) {
  return (n / 1024).toFixed(1) + ' KB'
}
function sec(ms) {
  return (ms / 1000).toFixed(1) + ' s'
}
function mean(xs) {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0
}
/** TCP/IP headers of one connection: 40 bytes a segment, plus the handshake and the close. */
function tcpOverhead(e) {
  return (Math.ceil(e.reqBytes / MSS) + Math.ceil(e.resBytes / MSS) + 3 + 4) * 40
}

async function main() {
  if (!process.env.SHILIU_BIN && !hasGo()) throw new Error('needs `go` (or SHILIU_BIN=path to a built shiliu)')
  const t0 = Date.now()
  const srv = await startServer()
  const random = rng(SEED)
  const bytesPerSec = KBPS * 1000 / 8
  let shaped = null
  const proxy = createProxy({targetPort: Number(new URL(srv.base).port), link: () => shaped})
  const port = await proxy.listen()
  try {
    const {staff, mp, phoneWx} = await enrolInstructor({createClient, httpWx, base: srv.base, phoneBase: 'http://127.0.0.1:' + port,
      code: 'field-1', name: '马明', phone: '13812345678', unitName: '东关村村委会'})

    // ---- the county's robot group, so that a tip's alert goes somewhere to be timed
    await staff.post('/api/v1/notification-groups', {name: '大厂县民族工作群', region_code: '131028000000',
      audience: 'county_staff', webhook_key: 'field-measure'})
    const wecom = srv.env.SHILIU_WECOM_API_BASE

    // ---- the photos and the drafts, queued while offline
    const outbox = createOutbox({client: mp, setTimer: () => null, clearTimer: () => {}})
    phoneWx.networkType = 'none'
    const sizes = []
    const drafts = []
    for (let i = 0; i < N; i++) {
      const file = path.join(srv.tmp, 'photo-' + i + '.jpg')
      const jpg = photo({seed: 100 + i})
      sizes.push(jpg.length)
      fs.writeFileSync(file, jpg)
      const {kind, record} = i === N - 1 ? urgentTip(i) : draftRecord(i)
      drafts.push(outbox.submit({kind, record, attachments: [{path: file, type: 'image', size: jpg.length}]}))
    }
    const urgent = drafts[N - 1]
    const urgentTitle = urgent.record.title
    await outbox.flush({force: true})
    const enrolled = proxy.log.length

    // ---- the network comes back, as 2G
    const links = {
      up: createLink({bytesPerSec, delayMs: RTT / 2, loss: LOSS, mss: MSS, random}),
      down: createLink({bytesPerSec, delayMs: RTT / 2, loss: LOSS, mss: MSS, random}),
    }
    shaped = links
    phoneWx.networkType = '2g'
    const loadAtStart = require('os').loadavg().map(x => Math.round(x * 100) / 100)
    const started = Date.now()
    const doneAt = []
    const textAt = []
    let urgentTextAt = null
    const unsubscribe = outbox.subscribe(items => {
      const n = items.filter(i => i.state === 'submitted').length
      while (doneAt.length < n) doneAt.push(Date.now() - started)
      const t = items.filter(i => i.text_sent).length
      while (textAt.length < t) textAt.push(Date.now() - started)
      if (urgentTextAt === null && items.some(i => i.client_id === urgent.client_id && i.text_sent)) urgentTextAt = Date.now() - started
    })
    // The urgent tip's robot alert at the county group, as the fake WeCom received it.
    let alertAt = null
    let alertContent = ''
    let polling = true
    const poll = (async () => {
      while (polling && alertAt === null) {
        try {
          const msgs = (await (await fetch(wecom + '/_fake/messages')).json()).messages || []
          const m = msgs.find(x => x.channel === 'robot' && (x.content || '').includes(urgentTitle))
          if (m) {
            alertAt = new Date(m.time).getTime() - started
            alertContent = m.content
          }
        } catch (e) {
          // try again
        }
        await new Promise(r => setTimeout(r, 100))
      }
    })()
    let rounds = 0
    while (outbox.counts().queued > 0 && rounds < 1000) {
      rounds++
      await outbox.flush({force: true})
    }
    const took = Date.now() - started
    const waitAlert = Date.now() + 30000
    while (alertAt === null && Date.now() < waitAlert) await new Promise(r => setTimeout(r, 200))
    polling = false
    await poll
    if (alertAt === null) {
      const msgs = await fetch(wecom + '/_fake/messages').then(r => r.json()).then(b => b.messages || []).catch(() => [])
      console.error('urgent alert not seen; the fake WeCom has ' + msgs.length + ' message(s):\n' + JSON.stringify(msgs.slice(0, 3), null, 1))
    }
    unsubscribe()
    shaped = null

    const states = {}
    drafts.forEach(d => { const s = outbox.get(d.client_id).state; states[s] = (states[s] || 0) + 1 })
    const log = proxy.log.slice(enrolled)
    const uploads = log.filter(e => e.path === '/api/v1/uploads')
    const records = log.filter(e => e.method === 'POST' && RECORD_PATH.test(e.path))
    const ok = e => e.delivered && e.status >= 200 && e.status < 300
    const up = {req: mean(uploads.filter(ok).map(e => e.reqBytes)), res: mean(uploads.filter(ok).map(e => e.resBytes)),
      tcp: mean(uploads.filter(ok).map(tcpOverhead))}
    const rec = {req: mean(records.filter(ok).map(e => e.reqBytes)), res: mean(records.filter(ok).map(e => e.resBytes)),
      tcp: mean(records.filter(ok).map(tcpOverhead))}
    const perUpload = uploads.filter(ok).map(e => e.endedAt - e.startedAt)
    const perRecord = records.filter(ok).map(e => e.endedAt - e.startedAt)
    const allBytes = log.reduce((n, e) => n + e.reqBytes + e.resBytes, 0)
    const result = {
      link: {kbps: KBPS, rtt_ms: RTT, loss: LOSS, mss: MSS, seed: SEED},
      records: N, states, rounds, connections: log.length,
      failed_exchanges: log.filter(e => !ok(e)).length,
      photo_bytes_mean: Math.round(mean(sizes)), photo_bytes_min: Math.min(...sizes), photo_bytes_max: Math.max(...sizes),
      all_text_ms: textAt[N - 1], first_text_ms: textAt[0], urgent_text_ms: urgentTextAt, urgent_alert_ms: alertAt,
      urgent_alert_excerpt: alertContent.slice(0, 120),
      all_photos_ms: took,
      load_average_start: loadAtStart,
      load_average: require('os').loadavg().map(x => Math.round(x * 100) / 100),
      total_ms: took, first_record_ms: doneAt[0], median_record_ms: doneAt[Math.floor(doneAt.length / 2)],
      per_record_ms: Math.round(took / N),
      upload_ms_mean: Math.round(mean(perUpload)), record_post_ms_mean: Math.round(mean(perRecord)),
      upload: {request: Math.round(up.req), response: Math.round(up.res), tcp_ip: Math.round(up.tcp)},
      record: {request: Math.round(rec.req), response: Math.round(rec.res), tcp_ip: Math.round(rec.tcp)},
      http_bytes_total: allBytes,
      segments: {up: links.up.stats.segments, down: links.down.stats.segments, lost_up: links.up.stats.lost, lost_down: links.down.stats.lost},
      wall_clock_s: Math.round((Date.now() - t0) / 1000),
    }
    if (arg('json')) fs.writeFileSync(arg('json'), JSON.stringify(result, null, 2))
    print(result)
    if (states.submitted !== N) process.exitCode = 1
  } finally {
    await proxy.close()
    srv.stop()
  }
}

/** The last draft: a major tip, the one the county must hear of first. */
function urgentTip(i) {
  const {record} = draftRecord(2)
  record.title = '重大线索:东关村聚集(第' + (i + 1) + '条)'
  record.occurred_at = draftRecord(i).record.occurred_at
  record.tip = Object.assign({}, record.tip, {level: 'major', people_involved: 40, ongoing: true, description: '东关村村口约40人聚集争执'})
  return {kind: 'tip', record}
}

function print(r) {
  const perRecordBytes = r.upload.request + r.upload.response + r.record.request + r.record.response
  const perRecordWire = perRecordBytes + r.upload.tcp_ip + r.record.tcp_ip
  const lines = [
    '## Measured (' + new Date().toISOString().slice(0, 10) + ', node ' + process.version + ')',
    '',
    'Link: ' + r.link.kbps + ' kbit/s each way, ' + r.link.rtt_ms + ' ms round trip, ' + (r.link.loss * 100) + ' % segment loss (seed ' + r.link.seed + ').',
    'Photos: ' + r.records + ' JPEGs, ' + kb(r.photo_bytes_min) + ' to ' + kb(r.photo_bytes_max) + ' (mean ' + kb(r.photo_bytes_mean) + ').',
    '',
    '| | |',
    '|---|---|',
    '| records synced | ' + JSON.stringify(r.states) + ' in ' + r.rounds + ' outbox run(s), ' + r.connections + ' connections, ' + r.failed_exchanges + ' failed exchange(s) |',
    '| text of all ' + r.records + ' on the server | **' + sec(r.all_text_ms) + '** (first after ' + sec(r.first_text_ms) + ') |',
    '| urgent tip (the last draft): text on the server | ' + sec(r.urgent_text_ms) + ' |',
    '| urgent tip: robot alert at the county group | **' + (r.urgent_alert_ms === null ? 'not seen' : sec(r.urgent_alert_ms)) + '** |',
    '| every photo on the server (all done) | **' + sec(r.total_ms) + '** (' + (r.total_ms / 60000).toFixed(1) + ' min) |',
    '| first record done (text and photo) after | ' + sec(r.first_record_ms) + ' |',
    '| load average (1, 5, 15 min; 2 cores, shared) | at the start ' + r.load_average_start.join(', ') + '; at the end ' + r.load_average.join(', ') + ' |',
    '| per record (mean) | ' + sec(r.per_record_ms) + ': photo upload ' + sec(r.upload_ms_mean) + ', record ' + sec(r.record_post_ms_mean) + ' |',
    '| segments lost and sent again | ' + r.segments.lost_up + ' of ' + r.segments.up + ' up, ' + r.segments.lost_down + ' of ' + r.segments.down + ' down |',
    '',
    '| bytes per record (mean) | request | response | sum |',
    '|---|---:|---:|---:|',
    '| photo upload (multipart, HTTP headers) | ' + r.upload.request + ' | ' + r.upload.response + ' | ' + (r.upload.request + r.upload.response) + ' |',
    '| record (JSON, HTTP headers) | ' + r.record.request + ' | ' + r.record.response + ' | ' + (r.record.request + r.record.response) + ' |',
    '| HTTP total | | | **' + perRecordBytes + '** (' + kb(perRecordBytes) + ') |',
    '| + TCP/IP headers (40 B a segment, handshake, close) | | | ' + (r.upload.tcp_ip + r.record.tcp_ip) + ' |',
    '| on the wire | | | **' + perRecordWire + '** (' + kb(perRecordWire) + ') |',
  ]
  console.log(lines.join('\n'))
  console.log('\n```json\n' + JSON.stringify(r, null, 2) + '\n```')
}

if (require.main === module) {
  main().catch(e => {
    console.error(e)
    process.exit(1)
  })
}

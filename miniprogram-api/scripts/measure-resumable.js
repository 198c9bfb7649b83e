#!/usr/bin/env node
// Resumable uploads over the field link, measured (npm run measure:resumable): a 2 MB photo
// with a tip, through the real client and outbox (miniprogram/outbox/resumable.js) to a real
// `shiliu serve`, over the simulated 2G link of measure-field.js (50 kbit/s each way, 300 ms round
// trip, 5 % of segments lost and sent again; spec/helpers/faulty-proxy.js, createLink). On top of
// the link, `--cuts` chunks are cut in the middle of their body (the connection drops: the server
// keeps what arrived), and after `--restart-after` chunks the signal goes for good and the app is
// "restarted": a new client and outbox over the same storage, which ask where the upload stands
// and go on. `--baseline` first tries the same photo the old way (one wx.uploadFile, 60 s timeout).
//
//   node scripts/measure-resumable.js [--kbps 50] [--rtt 300] [--loss 0.05] [--seed 7]
//        [--cuts 2] [--restart-after 10] [--baseline] [--json out.json]
//
// Prints a Markdown summary (copied into docs/field-conditions.md). Takes about 7 minutes.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('crypto')
const {httpWx} = require('../spec/helpers/http-wx')
const {startServer, enrolInstructor, hasGo} = require('../spec/helpers/server')
const {createProxy, createLink, rng} = require('../spec/helpers/faulty-proxy')
const {photo} = require('../spec/helpers/photo')
const {createClient} = require('../miniprogram/api/client')
const {createOutbox, ITEM_PREFIX} = require('../miniprogram/outbox/outbox')
const {CHUNK_BYTES} = require('../miniprogram/outbox/resumable')
const config = require('../miniprogram/config')

function arg(name, dflt) {
  const i = process.argv.indexOf('--' + name)
  if (i < 0) return dflt
  const v = process.argv[i + 1]
  return v === undefined || v.startsWith('--') ? true : v
}

const KBPS = Number(arg('kbps', 50))
const RTT = Number(arg('rtt', 300))
const LOSS = Number(arg('loss', 0.05))
const SEED = Number(arg('seed', 7))
const CUTS = Number(arg('cuts', 2))
const RESTART_AFTER = Number(arg('restart-after', 10))
const BASELINE = !!arg('baseline', false)
const MSS = 1400
const RESUMABLE = /^\/api\/v1\/uploads\/resumable/

const sec = ms => (ms / 1000).toFixed(1) + ' s'
const kb = n => (n / 1024).toFixed(1) + ' KB'
const load = () => os.loadavg().map(x => x.toFixed(2)).join(' ')

async function main() {
  if (!process.env.SHILIU_BIN && !hasGo()) throw new Error('needs `go` (or SHILIU_BIN=path to a built shiliu)')
  const t0 = Date.now()
  const loadBefore = load()
  const srv = await startServer()
  const random = rng(SEED)
  const bytesPerSec = KBPS * 1000 / 8
  let shaped = null
  let offline = false // the signal is gone: every connection is cut before its first byte
  let patches = 0
  const cutAt = new Set()
  for (let i = 0; i < CUTS; i++) cutAt.add(3 + i * 7) // the 3rd, 10th, 17th… chunk
  const proxy = createProxy({
    targetPort: Number(new URL(srv.base).port),
    link: () => shaped,
    decide: e => {
      if (offline) return {name: 'cut-request', fraction: 0}
      if (e.method === 'POST' && RESUMABLE.test(e.path) && e.path !== '/api/v1/uploads/resumable' && e.reqTotal > 1000) {
        patches++
        if (cutAt.has(patches)) return {name: 'cut-request', fraction: 0.5}
      }
      return null
    },
  })
  const port = await proxy.listen()
  const phoneBase = 'http://127.0.0.1:' + port
  try {
    const {mp, phoneWx, staff} = await enrolInstructor({createClient, httpWx, base: srv.base, phoneBase,
      code: 'field-r', name: '马明', phone: '13812345679', unitName: '东关村村委会',
      clientOptions: {requestTimeout: config.requestTimeout, uploadTimeout: config.uploadTimeout}})
    const file = path.join(srv.tmp, 'photo-2mb.jpg')
    const jpg = photo({width: 2560, height: 1920, quality: 88, noise: 14, seed: 5})
    fs.writeFileSync(file, jpg)
    const links = {
      up: createLink({bytesPerSec, delayMs: RTT / 2, loss: LOSS, mss: MSS, random}),
      down: createLink({bytesPerSec, delayMs: RTT / 2, loss: LOSS, mss: MSS, random}),
    }
    const result = {link: {kbps: KBPS, rtt_ms: RTT, loss: LOSS, mss: MSS, seed: SEED}, photo_bytes: jpg.length,
      chunk_bytes: CHUNK_BYTES, cuts: CUTS, restart_after_chunks: RESTART_AFTER, load_before: loadBefore}

    // ---- the old way: one wx.uploadFile of the whole photo, the app's 60 s timeout
    if (BASELINE) {
      // its own link: the whole file is handed to the proxy at once and stays scheduled on it
      shaped = {
        up: createLink({bytesPerSec, delayMs: RTT / 2, loss: LOSS, mss: MSS, random: rng(SEED + 1)}),
        down: createLink({bytesPerSec, delayMs: RTT / 2, loss: LOSS, mss: MSS, random: rng(SEED + 2)}),
      }
      const t = Date.now()
      const r = await mp.upload(file, {formData: {client_id: crypto.randomUUID()}}).then(() => 'stored', e => e.code || String(e))
      result.baseline = {outcome: r, ms: Date.now() - t}
      shaped = null
      await new Promise(res => setTimeout(res, 2000)) // the cut connection's last segments drain
    }

    // ---- a tip with the photo, sent through the outbox over the link
    const enrolled = proxy.log.length
    const progress = []
    let outbox = createOutbox({client: mp, setTimer: () => null, clearTimer: () => {},
      onUploadProgress: p => progress.push([Date.now(), p.sent, p.total])})
    shaped = links
    const started = Date.now()
    const watch = setInterval(() => {
      const done = proxy.log.slice(enrolled).filter(e => e.method === 'POST' && RESUMABLE.test(e.path) && e.delivered && e.status === 204).length
      if (done >= RESTART_AFTER && !offline && result.restart_at_ms === undefined) {
        offline = true
        result.restart_at_ms = Date.now() - started
      }
    }, 50)
    const d = outbox.submit({kind: 'tip', record: {title: '村口聚集(附大图)', occurred_at: new Date(Date.now() - 3600e3).toISOString(), place: '东关村',
      tip: {level: 'serious', kind: 'sign', people_involved: 12, groups_involved: '村民', description: '有人在村口聚集', ongoing: true}},
    attachments: [{path: file, type: 'image', size: jpg.length}]})
    let rounds = 0
    while (outbox.get(d.client_id).state !== 'submitted' && rounds < 200) {
      rounds++
      await outbox.flush({force: true})
      if (offline && outbox.get(d.client_id).state === 'queued') {
        // The signal is gone and the phone gave up for now; the app is closed. It opens again
        // (a new client and outbox over the same storage) when the signal is back.
        outbox.stop()
        const kept = JSON.parse(JSON.stringify(phoneWx.getStorageSync(ITEM_PREFIX + d.client_id) || {}))
        result.kept_with_draft = kept.attachments ? kept.attachments[0].resume || null : 'not found'
        await new Promise(res => setTimeout(res, 3000))
        offline = false
        const again = createClient({baseURL: phoneBase, requestTimeout: config.requestTimeout, uploadTimeout: config.uploadTimeout})
        outbox = createOutbox({client: again, setTimer: () => null, clearTimer: () => {},
          onUploadProgress: p => progress.push([Date.now(), p.sent, p.total])})
        result.restarted = true
      }
    }
    clearInterval(watch)
    const took = Date.now() - started
    shaped = null
    const it = outbox.get(d.client_id)
    outbox.stop()

    // ---- what the server stored: the photo as POST /uploads stores it (same cleaning)
    const uploadId = it.attachments[0].upload_id
    let identical = null
    if (uploadId) {
      const view = await staff.get('/api/v1/uploads/' + uploadId)
      const stored = Buffer.from(await (await fetch(srv.base + view.url)).arrayBuffer())
      identical = stored.equals(jpg)
      result.stored_bytes = stored.length
    }
    const log = proxy.log.slice(enrolled)
    const chunkEx = log.filter(e => e.method === 'POST' && RESUMABLE.test(e.path) && e.path !== '/api/v1/uploads/resumable')
    const heads = log.filter(e => e.method === 'HEAD')
    Object.assign(result, {
      state: it.state, outbox_rounds: rounds, total_ms: took,
      stored_identical: identical,
      connections: log.length,
      chunk_exchanges: chunkEx.length,
      chunk_exchanges_failed: chunkEx.filter(e => !(e.delivered && e.status >= 200 && e.status < 300)).length,
      head_exchanges: heads.length,
      bytes_up: log.reduce((n, e) => n + e.reqBytes, 0),
      bytes_down: log.reduce((n, e) => n + e.resBytes, 0),
      goodput_kbps: Math.round(jpg.length * 8 / took),
      segments: {up: links.up.stats.segments, down: links.down.stats.segments, lost_up: links.up.stats.lost, lost_down: links.down.stats.lost},
      load_after: load(), cpus: os.cpus().length,
      wall_clock_s: Math.round((Date.now() - t0) / 1000),
    })
    if (arg('json')) fs.writeFileSync(arg('json'), JSON.stringify(result, null, 2))
    print(result)
    if (it.state !== 'submitted' || identical === false) process.exitCode = 1
  } finally {
    await proxy.close()
    srv.stop()
  }
}

function print(r) {
  const lines = [
    '## Resumable upload measured (' + new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC, node ' + process.version + ')',
    '',
    'Link: ' + r.link.kbps + ' kbit/s each way, ' + r.link.rtt_ms + ' ms round trip, ' + (r.link.loss * 100) + ' % segment loss (seed ' + r.link.seed + ').',
    'Photo: one JPEG of ' + r.photo_bytes + ' bytes (' + kb(r.photo_bytes) + '), chunks of ' + kb(r.chunk_bytes) + '; ' + r.cuts +
      ' chunk(s) cut mid-body; after ' + r.restart_after_chunks + ' chunks the signal gone and the app restarted.',
    'Machine load average (1/5/15 min, ' + r.cpus + ' cores, shared): ' + r.load_before + ' before, ' + r.load_after + ' after.',
    '',
    '| | |',
    '|---|---|',
  ]
  if (r.baseline) lines.push('| the old way (one wx.uploadFile, 60 s timeout) | ' + r.baseline.outcome + ' after ' + sec(r.baseline.ms) + ' |')
  lines.push(
    '| record with the photo | **' + r.state + '** in **' + sec(r.total_ms) + '** (' + (r.total_ms / 60000).toFixed(1) + ' min), ' + r.outbox_rounds + ' outbox run(s) |',
    '| upload URL kept with the draft at the restart | ' + JSON.stringify(r.kept_with_draft) + ' |',
    '| stored file identical to the photo | ' + r.stored_identical + ' (' + r.stored_bytes + ' bytes) |',
    '| chunk exchanges | ' + r.chunk_exchanges + ' (' + r.chunk_exchanges_failed + ' failed), ' + r.head_exchanges + ' HEAD, ' + r.connections + ' connections in all |',
    '| bytes up / down (HTTP) | ' + r.bytes_up + ' / ' + r.bytes_down + ' (' + ((r.bytes_up / r.photo_bytes - 1) * 100).toFixed(1) + ' % over the photo up) |',
    '| goodput | ' + r.goodput_kbps + ' kbit/s of ' + r.link.kbps + ' |',
    '| segments lost and sent again | ' + r.segments.lost_up + ' of ' + r.segments.up + ' up, ' + r.segments.lost_down + ' of ' + r.segments.down + ' down |',
  )
  console.log(lines.join('\n'))
  console.log('\n```json\n' + JSON.stringify(r, null, 2) + '\n```')
}

if (require.main === module) {
  main().catch(e => {
    console.error(e)
    process.exit(1)
  })
}

'use strict'
// The resumable uploader (miniprogram/outbox/resumable.js) against an in-memory tus server that
// keeps what arrived of a cut chunk, as the real one does; and the outbox resuming an upload
// after an app restart from the URL kept with the draft.
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('crypto')
const {createFakeWx, pathOf} = require('./helpers/fake-wx')
const {createClient, headerValue} = require('../miniprogram/api/client')
const {createOutbox, ITEM_PREFIX} = require('../miniprogram/outbox/outbox')
const {uploadFile, CHUNK_BYTES, RESUMABLE_ABOVE} = require('../miniprogram/outbox/resumable')
const F = require('./helpers/fixtures')

const BASE = 'https://api.test'

/**
 * A tus server in memory. `cut(n)` makes the next chunk arrive with only its first n bytes and
 * the connection fail (the bytes are kept); `down` fails every exchange (no signal).
 */
function tusServer() {
  const s = {partials: new Map(), uploads: [], records: [], creations: 0, exchanges: [], bytesIn: 0, down: false, cutAt: null, nextId: 700}
  s.cut = n => { s.cutAt = n }
  s.handle = req => {
    const p = pathOf(req)
    const h = k => headerValue(req.header, k)
    s.exchanges.push((h('X-HTTP-Method-Override') || req.method) + ' ' + p)
    if (s.down) return {fail: 'network'}
    if (req.method === 'POST' && p === '/api/v1/visits') {
      s.records.push(req.data)
      return {statusCode: 201, data: F.record({kind: 'visit', id: 900, client_id: req.data.client_id, attachments: []})}
    }
    if (h('Tus-Resumable') !== '1.0.0') return {statusCode: 412, data: {code: 'tus_version_unsupported', message: '版本', details: [], request_id: 'r'}}
    if (req.method === 'POST' && p === '/api/v1/uploads/resumable') {
      const meta = {}
      h('Upload-Metadata').split(',').forEach(kv => {
        const [k, v] = kv.trim().split(' ')
        meta[k] = Buffer.from(v || '', 'base64').toString('utf8')
      })
      let pt = [...s.partials.values()].find(x => x.clientId === meta.client_id && !x.done)
      if (!pt) {
        s.creations++
        pt = {id: crypto.randomBytes(16).toString('hex'), length: Number(h('Upload-Length')), bytes: Buffer.alloc(0),
          clientId: meta.client_id, name: meta.filename, done: null}
        s.partials.set(pt.id, pt)
      }
      const url = '/api/v1/uploads/resumable/' + pt.id
      return {statusCode: 201, header: {location: url, 'upload-offset': String(pt.bytes.length)},
        data: {id: pt.id, url, offset: pt.bytes.length, length: pt.length, expires_at: '2024-05-02T09:30:00+08:00'}}
    }
    const m = p.match(/^\/api\/v1\/uploads\/resumable\/([0-9a-f]{32})$/)
    const pt = m && s.partials.get(m[1])
    if (!pt) return {statusCode: 404, data: req.method === 'HEAD' ? '' : {code: 'upload_not_found', message: '该上传不存在或已过期,请重新上传', details: [], request_id: 'r'}}
    if (req.method === 'HEAD') return {statusCode: 200, header: {'upload-offset': String(pt.bytes.length), 'upload-length': String(pt.length)}, data: ''}
    if (req.method === 'POST' && h('X-HTTP-Method-Override') === 'PATCH') {
      assert.equal(h('Content-Type'), 'application/offset+octet-stream')
      assert.ok(req.data instanceof ArrayBuffer, 'a chunk is an ArrayBuffer')
      if (Number(h('Upload-Offset')) !== pt.bytes.length) {
        return {statusCode: 409, header: {'upload-offset': String(pt.bytes.length)},
          data: {code: 'upload_offset_mismatch', message: '上传进度与服务器不一致', details: [], request_id: 'r'}}
      }
      let chunk = Buffer.from(req.data)
      const cut = s.cutAt !== null
      if (cut) {
        chunk = chunk.subarray(0, s.cutAt)
        s.cutAt = null
      }
      s.bytesIn += chunk.length
      pt.bytes = Buffer.concat([pt.bytes, chunk])
      if (cut) return {fail: 'network'}
      if (pt.bytes.length < pt.length) return {statusCode: 204, header: {'upload-offset': String(pt.bytes.length)}, data: ''}
      if (!pt.done) {
        pt.done = F.upload(s.nextId++, {size: pt.length, name: pt.name})
        s.uploads.push({id: pt.done.id, bytes: pt.bytes, clientId: pt.clientId})
      }
      return {statusCode: 200, header: {'upload-offset': String(pt.length)}, data: pt.done}
    }
    return {statusCode: 405, data: {code: 'method_not_allowed', message: '不支持', details: [], request_id: 'r'}}
  }
  return s
}

/** A phone's file system holding `files` (path → Buffer): what the uploader reads. */
function withFiles(fake, files) {
  const base = fake.getFileSystemManager
  fake.reads = []
  fake.getFileSystemManager = () => Object.assign(base(), {
    getFileInfo(r) {
      const b = files.get(r.filePath)
      setImmediate(() => (b ? r.success({size: b.length}) : r.fail({errMsg: 'getFileInfo:fail no such file'})))
    },
    readFile(r) {
      const b = files.get(r.filePath)
      fake.reads.push([r.position, r.length])
      setImmediate(() => {
        if (!b) return r.fail({errMsg: 'readFile:fail no such file'})
        const slice = b.subarray(r.position, r.position + r.length)
        r.success({data: slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.length)})
      })
    },
  })
}

describe('resumable uploads', () => {
  let fake
  let server
  let client
  let files
  const photo = crypto.randomBytes(300 * 1024 + 123)
  const path = 'wxfile://store/big.jpg'

  beforeEach(() => {
    fake = createFakeWx()
    global.wx = fake
    fake.contract = true
    server = tusServer()
    fake.handler = req => server.handle(req)
    files = new Map([[path, photo]])
    withFiles(fake, files)
    client = createClient({baseURL: BASE})
    client.setSession({access_token: 'A', refresh_token: 'R', expires_in: 86400, user: {id: 1, role: 'instructor'}})
  })
  afterEach(() => {
    const errs = fake.contractErrors.splice(0)
    delete global.wx
    if (errs.length) throw new Error('exchanges outside openapi.yaml:\n  ' + [...new Set(errs)].join('\n  '))
  })

  it('sends a large photo in 64 KB ArrayBuffer chunks (POST + X-HTTP-Method-Override: PATCH) and reports bytes sent of total', async () => {
    const progress = []
    const states = []
    const up = await uploadFile(client, path, {clientId: '3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17', onProgress: (s, t) => progress.push([s, t]),
      onState: st => states.push(st)})
    assert.equal(up.id, 700)
    assert.ok(server.uploads[0].bytes.equals(photo), 'the server has the photo byte for byte')
    assert.equal(server.uploads[0].clientId, '3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17', 'the client_id travels in Upload-Metadata')
    const chunks = Math.ceil(photo.length / CHUNK_BYTES)
    assert.deepEqual(server.exchanges, ['POST /api/v1/uploads/resumable'].concat(Array(chunks).fill('PATCH ' + states[0].url)))
    assert.ok(fake.reads.every(([, n]) => n <= CHUNK_BYTES), 'never more than a chunk in memory')
    assert.deepEqual(progress[0], [0, photo.length])
    assert.deepEqual(progress[progress.length - 1], [photo.length, photo.length])
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i][0] >= progress[i - 1][0], 'progress only goes forward')
    assert.deepEqual(states[states.length - 1], null, 'the URL is forgotten once the file is stored')
  })

  it('after a connection drops mid-chunk, asks where the server stands (HEAD) and sends only what is missing', async () => {
    let patches = 0
    const orig = server.handle
    server.handle = req => {
      // the second chunk: its first 10000 bytes arrive, then the signal goes
      if (headerValue(req.header, 'X-HTTP-Method-Override') === 'PATCH' && ++patches === 2) server.cut(10000)
      return orig(req)
    }
    await uploadFile(client, path, {clientId: 'c1'})
    assert.ok(server.uploads[0].bytes.equals(photo))
    assert.equal(server.bytesIn, photo.length, 'no byte was sent twice to the server that kept them')
    const heads = server.exchanges.filter(e => e.startsWith('HEAD'))
    assert.equal(heads.length, 1)
    assert.equal(server.creations, 1)
  })

  it('an outbox restarted mid-upload goes on from the URL kept with the draft: one creation, the bytes sent once', async () => {
    const mk = () => createOutbox({client, setTimer: () => null, clearTimer: () => {}})
    let outbox
    // Signal lost for good after two chunks.
    let patches = 0
    const orig = server.handle
    server.handle = req => {
      if (headerValue(req.header, 'X-HTTP-Method-Override') === 'PATCH' && ++patches > 2) return {fail: 'network'}
      return orig(req)
    }
    const progress = []
    outbox = createOutbox({client, setTimer: () => null, clearTimer: () => {}, onUploadProgress: p => progress.push(p)})
    const d = outbox.submit({kind: 'visit', record: {title: '入户', occurred_at: '2024-05-01T09:30:00+08:00', visit: {visit_kind: 'home_visit', content: '入户'}},
      attachments: [{path, type: 'image', size: photo.length}]})
    await outbox.flush()
    const kept = fake.getStorageSync(ITEM_PREFIX + d.client_id)
    assert.ok(kept.attachments[0].resume && /^\/api\/v1\/uploads\/resumable\/[0-9a-f]{32}$/.test(kept.attachments[0].resume.url),
      'the upload URL is kept with the draft: ' + JSON.stringify(kept.attachments[0]))
    assert.equal(kept.attachments[0].upload_id, null)
    assert.ok(progress.length > 0 && progress.every(p => p.client_id === d.client_id && p.index === 0 && p.total === photo.length))
    const sentBefore = server.bytesIn
    assert.equal(sentBefore, 2 * CHUNK_BYTES)

    // The app is closed and opened again: a new client and outbox over the same storage.
    outbox.stop()
    server.handle = orig
    client = createClient({baseURL: BASE})
    outbox = mk()
    server.exchanges.length = 0
    await outbox.flush({force: true})
    const it = outbox.get(d.client_id)
    assert.equal(it.state, 'submitted', JSON.stringify(it))
    assert.equal(server.creations, 1, 'not created again')
    assert.equal(server.exchanges[0], 'HEAD ' + kept.attachments[0].resume.url, 'first asks where it stands')
    assert.equal(server.bytesIn, photo.length, 'each byte sent once')
    assert.ok(server.uploads[0].bytes.equals(photo))
    assert.equal(it.attachments[0].upload_id, server.uploads[0].id)
    assert.equal(it.attachments[0].resume, undefined)
    // text first: the record went before the photo, declaring it by the client_id the chunks carry
    assert.deepEqual(server.records.map(r => r.attachment_client_ids), [[kept.attachments[0].client_id]], 'the record declares the upload')
    outbox.stop()
  })

  it('a completion whose answer was lost is asked for again with an empty chunk at the end', async () => {
    let lost = false
    const orig = server.handle
    server.handle = req => {
      const res = orig(req)
      if (res.statusCode === 200 && !lost) {
        lost = true
        return {fail: 'network'}
      }
      return res
    }
    const up = await uploadFile(client, path, {clientId: 'c2'})
    assert.equal(up.id, 700)
    assert.equal(server.uploads.length, 1, 'one upload')
    assert.deepEqual(server.exchanges.slice(-2).map(e => e.split(' ')[0]), ['HEAD', 'PATCH'])
    assert.equal(server.bytesIn, photo.length)
  })

  it('an upload the server no longer knows (expired) starts again under the same client_id', async () => {
    const states = []
    const up = await uploadFile(client, path, {clientId: 'c3', state: {url: '/api/v1/uploads/resumable/' + 'ab'.repeat(16)},
      onState: st => states.push(st)})
    assert.equal(up.id, 700)
    assert.deepEqual(server.exchanges.slice(0, 2).map(e => e.split(' ')[0]), ['HEAD', 'POST'])
    assert.equal(states[0], null, 'the stale URL is forgotten')
  })

  it('a file up to RESUMABLE_ABOVE goes in one wx.uploadFile with its client_id', async () => {
    const small = 'wxfile://store/small.jpg'
    files.set(small, crypto.randomBytes(RESUMABLE_ABOVE))
    fake.contract = false
    fake.uploadHandler = () => ({statusCode: 201, data: JSON.stringify(F.upload(9))})
    const progress = []
    const up = await uploadFile(client, small, {clientId: '3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17', onProgress: (s, t) => progress.push([s, t])})
    assert.equal(up.id, 9)
    assert.equal(fake.uploads.length, 1)
    assert.equal(fake.uploads[0].formData.client_id, '3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17')
    assert.deepEqual(progress, [[0, RESUMABLE_ABOVE], [RESUMABLE_ABOVE, RESUMABLE_ABOVE]])
  })

  it('a file that shrinks on the phone while it goes up fails that file instead of looping', async () => {
    const orig = server.handle
    server.handle = req => {
      const res = orig(req)
      if (res.statusCode === 204) files.set(path, photo.subarray(0, 100000)) // cut down after the first chunk
      return res
    }
    await assert.rejects(uploadFile(client, path, {clientId: 'c5'}), e => e.refused && e.code === 'file_missing')
    assert.ok(server.exchanges.length < 5, server.exchanges.join(', '))
  })

  it('a file refused at completion (not a photo) fails that file, as a refused upload does', async () => {
    const orig = server.handle
    server.handle = req => {
      const res = orig(req)
      if (res.statusCode === 200) return {statusCode: 415, data: {code: 'unsupported_file_type', message: '不支持的文件类型', details: [], request_id: 'r'}}
      return res
    }
    await assert.rejects(uploadFile(client, path, {clientId: 'c4'}), e => e.refused && e.code === 'unsupported_file_type')
  })
})

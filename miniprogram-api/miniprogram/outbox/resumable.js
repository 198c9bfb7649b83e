// Resumable uploads of photos and voice notes (the server's tus 1.0.0 endpoint,
// POST /api/v1/uploads/resumable): the file goes up in chunks of CHUNK_BYTES, each its own
// wx.request with an ArrayBuffer body, so a dropped connection costs at most one chunk and an
// app restart costs nothing: the upload's URL is kept with the draft (onState), and the next try
// asks the server where it stands (HEAD → Upload-Offset) and goes on from there.
//
// - wx.request has no PATCH: chunks are POSTs with X-HTTP-Method-Override: PATCH.
// - The file's client_id goes in Upload-Metadata: a creation whose answer was lost finds the same
//   upload again, and the finished file is stored once (the server's normal upload path, by
//   client_id), whichever way it went up.
// - The chunk bringing the last byte answers the Upload ({id, kind, url…}), as POST /uploads does;
//   when that answer is lost, an empty chunk at the end asks for it again.
// - Files up to RESUMABLE_ABOVE go in one wx.uploadFile: fewer round trips, and on 2G they take
//   well under the upload timeout.
'use strict'
const {headerValue} = require('../api/client')

const CHUNK_BYTES = 64 * 1024
const RESUMABLE_ABOVE = 128 * 1024
const TUS = '1.0.0'
const BASE = '/api/v1/uploads/resumable'
// Chunks sent in a row without the server's offset moving before giving the try up to the outbox's
// backoff (the upload's place on the server is kept).
const MAX_STALLED = 3

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** base64 of the UTF-8 bytes of s (Upload-Metadata values; file names may be Chinese). */
function b64(s) {
  const bytes = []
  const u = unescape(encodeURIComponent(String(s)))
  for (let i = 0; i < u.length; i++) bytes.push(u.charCodeAt(i))
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0)
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] +
      (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=')
  }
  return out
}

function fsm() {
  return wx.getFileSystemManager()
}

/** Size of a local file in bytes. */
function fileSize(filePath) {
  return new Promise((resolve, reject) => {
    fsm().getFileInfo({filePath, success: r => resolve(r.size), fail: e => reject(readError(e))})
  })
}

/** Bytes [position, position+length) of a local file, as an ArrayBuffer. */
function readChunk(filePath, position, length) {
  return new Promise((resolve, reject) => {
    fsm().readFile({filePath, position, length, success: r => resolve(r.data), fail: e => reject(readError(e))})
  })
}

function readError(e) {
  return {refused: true, code: 'file_missing', message: '文件已不在手机上,请删除后重新添加', cause: e && e.errMsg}
}

function offsetOf(res) {
  const n = parseInt(headerValue(res.header, 'Upload-Offset'), 10)
  return Number.isFinite(n) && n >= 0 ? n : null
}

function nameOf(filePath) {
  return String(filePath || '').replace(/^.*[\\/]/, '')
}

/**
 * Uploads one local file; resolves with the server's Upload.
 * @param {object} client the API client
 * @param {string} filePath
 * @param {object} o
 * @param {string} o.clientId the file's client_id (kept with the draft)
 * @param {number} [o.size] its size, when known
 * @param {{url:string}|null} [o.state] what onState stored on an earlier try
 * @param {(state: {url:string}|null) => void} [o.onState] keep this with the draft (null: forget it)
 * @param {(sent:number, total:number) => void} [o.onProgress]
 * @param {number} [o.chunkBytes]
 * @param {number} [o.timeout] per chunk (ms)
 */
async function uploadFile(client, filePath, o) {
  // The file's own size, not the one kept with the draft: Upload-Length must be exact.
  const size = await fileSize(filePath).catch(e => {
    if (o.size > 0) return o.size
    throw e
  })
  const progress = (sent) => {
    if (o.onProgress) {
      try {
        o.onProgress(sent, size)
      } catch (e) {
        // the progress display must not break the upload
      }
    }
  }
  if (size <= RESUMABLE_ABOVE && !(o.state && o.state.url)) {
    progress(0)
    const up = await client.upload(filePath, {formData: {client_id: o.clientId}})
    progress(size)
    return up
  }
  return resumable(client, filePath, size, o, progress)
}

async function resumable(client, filePath, size, o, progress) {
  const chunkBytes = o.chunkBytes || CHUNK_BYTES
  const timeout = o.timeout || (client.config && client.config.uploadTimeout) || 60000
  const tus = extra => Object.assign({'Tus-Resumable': TUS}, extra)
  const keep = st => {
    if (o.onState) o.onState(st)
  }
  let url = o.state && o.state.url
  let offset = null
  let restarted = false

  async function create() {
    const meta = 'filename ' + b64(nameOf(filePath)) + (o.clientId ? ',client_id ' + b64(o.clientId) : '')
    const res = await client.raw('POST', BASE, {header: tus({'Upload-Length': String(size), 'Upload-Metadata': meta})})
    const loc = headerValue(res.header, 'Location') || (res.data && res.data.url)
    if (!loc) throw {status: 502, message: '服务器的回答不完整,稍后自动重试'}
    url = loc.replace(/^https?:\/\/[^/]+/, '')
    keep({url})
    const at = offsetOf(res)
    return at === null ? 0 : at
  }

  /** Where the server stands; null when it no longer knows the upload. */
  async function head() {
    try {
      const res = await client.raw('HEAD', url, {header: tus()})
      return offsetOf(res)
    } catch (e) {
      if (e && e.status === 404) return null
      throw e
    }
  }

  async function restart() {
    // Expired or swept on the server: start again (once per try), keeping the client_id.
    if (restarted) throw {status: 0, code: 'network', message: '上传已失效,稍后自动重新上传'}
    restarted = true
    keep(null)
    url = null
    return create()
  }

  offset = url ? await head() : await create()
  if (offset === null) offset = await restart()
  progress(offset)
  let stalled = 0
  for (;;) {
    const end = Math.min(size, offset + chunkBytes)
    const data = end > offset ? await readChunk(filePath, offset, end - offset) : new ArrayBuffer(0)
    if (data.byteLength !== end - offset) throw readError({errMsg: 'readFile: short read at ' + offset}) // changed on the phone
    let res
    try {
      res = await client.raw('POST', url, {
        data,
        timeout,
        header: tus({'X-HTTP-Method-Override': 'PATCH', 'Upload-Offset': String(offset),
          'Content-Type': 'application/offset+octet-stream'}),
      })
    } catch (e) {
      const err = e || {}
      if (err.status === 404 && err.code === 'upload_not_found') {
        offset = await restart()
        continue
      }
      if (err.status !== 409 && !(err.status === 0 || err.status === 408 || err.status === 400 && err.code === 'upload_incomplete')) {
        throw e // refused (the file is no photo, too large…) or busy (429/503: the outbox waits)
      }
      // Cut off, timed out or out of step: ask where the server stands and go on from there.
      const at = await head()
      if (at === null) {
        offset = await restart()
        continue
      }
      if (at > offset) stalled = 0
      else if (++stalled >= MAX_STALLED) throw e
      offset = at
      progress(offset)
      continue
    }
    if (res.statusCode === 200 && res.data && res.data.id) {
      progress(size)
      keep(null)
      return res.data
    }
    const at = offsetOf(res)
    offset = at === null ? end : at
    stalled = 0
    progress(offset)
  }
}

module.exports = {uploadFile, CHUNK_BYTES, RESUMABLE_ABOVE}

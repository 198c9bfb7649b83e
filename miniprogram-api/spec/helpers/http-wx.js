// A `wx` whose network calls are real HTTP (node's http module), for driving the real client and
// outbox against a running `shiliu serve`, directly or through the faulty proxy.
//
// - wx.request: JSON in and out, `timeout` enforced, failures reported as wx does
//   ({errMsg: 'request:fail …'}; a timeout says "timeout").
// - wx.uploadFile: multipart/form-data with the file in field `name`, the body handed back as a
//   string, as wx does.
// - One TCP connection per request (Connection: close), so a fault the proxy injects hits exactly
//   one exchange; requests carry the headers WeChat adds (User-Agent, Referer) so the bytes counted
//   on the wire are close to a phone's.
// Everything else (storage, login codes, network type) is the fake wx of fake-wx.js.
'use strict'
const fs = require('fs')
const http = require('http')
const path = require('path')
const crypto = require('crypto')
const {createFakeWx} = require('./fake-wx')

// What WeChat's Android client sends with every wx.request / wx.uploadFile (values typical of a
// 2024 build; the length is what matters for the byte counts).
const WECHAT_HEADERS = {
  'User-Agent': 'Mozilla/5.0 (Linux; Android 12; M2006C3LC Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) ' +
    'Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/5197 MMWEBSDK/20230805 MMWEBID/2587 MicroMessenger/8.0.42.2460(0x28002A35) ' +
    'WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64 MiniProgramEnv/android',
  'Referer': 'https://servicewechat.com/wx1234567890abcdef/12/page-frame.html',
}

const MIME = {'.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.aac': 'audio/aac', '.m4a': 'audio/mp4', '.mp3': 'audio/mpeg'}

/**
 * One HTTP exchange. Resolves {statusCode, data (string), header} or {fail: reason}.
 * @param {string} url
 * @param {{method:string, headers:object, body?:Buffer, timeout:number}} o
 */
function exchange(url, o) {
  return new Promise(resolve => {
    const u = new URL(url)
    let done = false
    const finish = v => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(v)
    }
    const headers = Object.assign({Connection: 'close'}, WECHAT_HEADERS, o.headers)
    if (o.body) headers['Content-Length'] = String(o.body.length)
    const req = http.request({host: u.hostname, port: u.port, path: u.pathname + u.search, method: o.method, headers, agent: false})
    const timer = setTimeout(() => {
      req.destroy()
      finish({fail: 'timeout'})
    }, o.timeout)
    req.on('response', res => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        if (!res.complete) return finish({fail: 'interrupted'})
        finish({statusCode: res.statusCode, data: Buffer.concat(chunks).toString('utf8'), header: res.headers})
      })
      res.on('aborted', () => finish({fail: 'interrupted'}))
      res.on('error', e => finish({fail: e.code || e.message}))
    })
    req.on('error', e => finish({fail: e.code || e.message}))
    req.end(o.body)
  })
}

/** Builds the multipart body wx.uploadFile sends. */
function multipart(field, filePath, formData) {
  const boundary = '----WeChatMiniProgramBoundary' + crypto.randomBytes(8).toString('hex')
  const parts = []
  Object.keys(formData || {}).forEach(k => {
    parts.push(Buffer.from('--' + boundary + '\r\nContent-Disposition: form-data; name="' + k + '"\r\n\r\n' + formData[k] + '\r\n'))
  })
  const name = path.basename(filePath)
  const type = MIME[path.extname(name).toLowerCase()] || 'application/octet-stream'
  parts.push(Buffer.from('--' + boundary + '\r\nContent-Disposition: form-data; name="' + field + '"; filename="' + name +
    '"\r\nContent-Type: ' + type + '\r\n\r\n'))
  parts.push(fs.readFileSync(filePath))
  parts.push(Buffer.from('\r\n--' + boundary + '--\r\n'))
  return {body: Buffer.concat(parts), contentType: 'multipart/form-data; boundary=' + boundary}
}

/**
 * A wx over real HTTP. `intercept(req, send)` may tamper with an exchange (send() performs it).
 * @param {string[]} [codes] wx.login codes the fake WeChat knows
 */
function httpWx(codes) {
  const wx = createFakeWx()
  wx.loginCodes = codes || []
  wx.intercept = (req, send) => send()
  wx.handler = req => wx.intercept(req, async () => {
    const method = req.method || 'GET'
    // An ArrayBuffer goes as it is (the chunks of a resumable upload), anything else as JSON.
    const body = req.data === undefined || method === 'GET' || method === 'HEAD' ? undefined
      : req.data instanceof ArrayBuffer ? Buffer.from(req.data) : Buffer.from(JSON.stringify(req.data))
    const res = await exchange(req.url, {method, headers: req.header || {}, body, timeout: req.timeout || 20000})
    if (res.fail) return res
    let data = res.data
    try {
      data = res.data ? JSON.parse(res.data) : ''
    } catch (e) {
      // not JSON: handed over as text, as wx does
    }
    return {statusCode: res.statusCode, data, header: res.header}
  })
  wx.uploadHandler = req => wx.intercept(req, async () => {
    const m = multipart(req.name, req.filePath, req.formData)
    const headers = Object.assign({}, req.header || {}, {'Content-Type': m.contentType})
    return exchange(req.url, {method: 'POST', headers, body: m.body, timeout: req.timeout || 60000})
  })
  // The phone's files are real files: their size and byte ranges (the resumable uploader reads
  // chunks with readFile position/length).
  const fakeFs = wx.getFileSystemManager
  wx.getFileSystemManager = () => Object.assign(fakeFs(), {
    getFileInfo(r) {
      fs.stat(r.filePath, (err, st) => (err ? r.fail({errMsg: 'getFileInfo:fail ' + err.message}) : r.success({size: st.size, errMsg: 'getFileInfo:ok'})))
    },
    readFile(r) {
      fs.open(r.filePath, 'r', (err, fd) => {
        if (err) return r.fail({errMsg: 'readFile:fail ' + err.message})
        const buf = Buffer.alloc(r.length)
        fs.read(fd, buf, 0, r.length, r.position, (err, n) => {
          fs.close(fd, () => {})
          if (err) return r.fail({errMsg: 'readFile:fail ' + err.message})
          r.success({data: buf.buffer.slice(buf.byteOffset, buf.byteOffset + n), errMsg: 'readFile:ok'})
        })
      })
    },
  })
  return wx
}

module.exports = {httpWx, exchange, multipart, WECHAT_HEADERS}

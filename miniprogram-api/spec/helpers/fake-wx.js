// A fake `wx` for unit and page tests. Requests go to `fake.handler(req)`, which returns (or
// resolves to) {statusCode, data, header} or {fail: 'errMsg'}. Every request is recorded in
// `fake.requests`. Storage is a Map holding JSON copies, with WeChat's size limits.
'use strict'

function utf8Bytes(s) {
  return Buffer.byteLength(s, 'utf8')
}

/**
 * @param {object} [opts]
 * @param {object} [opts.base] an existing wx (the simulator's) to layer over
 */
function createFakeWx(opts) {
  const o = opts || {}
  const storage = new Map()
  const netListeners = []
  const fake = Object.create(o.base || null)
  Object.assign(fake, {
    requests: [],
    uploads: [],
    storage,
    networkType: 'wifi',
    handler: () => ({statusCode: 200, data: {}}),
    uploadHandler: null,
    loginCodes: ['code-1', 'code-2', 'code-3', 'code-4'],
    missingFiles: [], // local paths wx.getFileSystemManager().access reports as gone
    perKeyLimit: 1024 * 1024,
    totalLimit: 10 * 1024 * 1024,
    toasts: [],
    modals: [],
    modalAnswer: true,
    navigations: [],
    scrolls: [],
    savedFiles: [],
    subscribeAnswer: null,
    scanResult: null,
    // When true, every exchange is checked against openapi.yaml (see contract.js) and the
    // problems are collected here; page tests assert that none were found.
    contract: false,
    contractErrors: [],

    request(req) {
      fake.requests.push(req)
      respond(req, fake.handler)
      return {abort() { req.aborted = true }}
    },
    uploadFile(req) {
      req.method = 'UPLOAD'
      fake.requests.push(req)
      fake.uploads.push(req)
      respond(req, fake.uploadHandler || fake.handler, true)
      return {abort() { req.aborted = true }, onProgressUpdate() {}}
    },
    login(r) {
      const code = fake.loginCodes.shift()
      setImmediate(() => (code ? r.success({code, errMsg: 'login:ok'}) : r.fail({errMsg: 'login:fail'})))
    },

    getStorageSync(key) {
      return storage.has(key) ? JSON.parse(storage.get(key)) : ''
    },
    setStorageSync(key, value) {
      const s = JSON.stringify(value)
      if (utf8Bytes(s) > fake.perKeyLimit) throw new Error('setStorageSync:fail exceed max size 1MB')
      let total = utf8Bytes(s)
      storage.forEach((v, k) => { if (k !== key) total += utf8Bytes(v) })
      if (total > fake.totalLimit) throw new Error('setStorageSync:fail exceed storage max size 10MB')
      storage.set(key, s)
    },
    removeStorageSync(key) {
      storage.delete(key)
    },
    getStorageInfoSync() {
      let total = 0
      storage.forEach(v => { total += utf8Bytes(v) })
      return {keys: [...storage.keys()], currentSize: Math.ceil(total / 1024), limitSize: fake.totalLimit / 1024}
    },

    getNetworkType(r) {
      setImmediate(() => r.success({networkType: fake.networkType, errMsg: 'getNetworkType:ok'}))
    },
    onNetworkStatusChange(fn) {
      netListeners.push(fn)
    },
    offNetworkStatusChange(fn) {
      const i = netListeners.indexOf(fn)
      if (i >= 0) netListeners.splice(i, 1)
    },
    /** Test helper: the network comes or goes. */
    setNetwork(type) {
      fake.networkType = type
      netListeners.slice().forEach(fn => fn({isConnected: type !== 'none', networkType: type}))
    },
    onAppShow() {},

    getFileSystemManager() {
      return {
        saveFile(r) {
          const saved = 'wxfile://store/' + r.tempFilePath.replace(/^.*\//, '')
          fake.savedFiles.push(saved)
          setImmediate(() => r.success({savedFilePath: saved, errMsg: 'saveFile:ok'}))
        },
        removeSavedFile(r) {
          fake.savedFiles = fake.savedFiles.filter(f => f !== r.filePath)
          if (r.success) setImmediate(() => r.success({errMsg: 'removeSavedFile:ok'}))
        },
        unlink(r) {
          if (r.success) setImmediate(() => r.success({errMsg: 'unlink:ok'}))
        },
        access(r) {
          const gone = fake.missingFiles.indexOf(r.path) >= 0
          setImmediate(() => (gone ? r.fail({errMsg: 'access:fail no such file or directory ' + r.path}) : r.success({errMsg: 'access:ok'})))
        },
        getFileInfo(r) {
          setImmediate(() => r.success({size: /-small/.test(r.filePath) ? 90000 : 1000, errMsg: 'getFileInfo:ok'}))
        },
      }
    },

    showToast(t) { fake.toasts.push(t) },
    hideToast() {},
    showLoading() {},
    hideLoading() {},
    showModal(m) {
      fake.modals.push(m)
      setImmediate(() => m.success && m.success({confirm: !!fake.modalAnswer, cancel: !fake.modalAnswer, content: fake.modalContent}))
    },
    navigateTo(n) { fake.navigations.push(n.url); if (n.success) setImmediate(() => n.success({})) },
    redirectTo(n) { fake.navigations.push(n.url) },
    reLaunch(n) { fake.navigations.push(n.url) },
    switchTab(n) { fake.navigations.push(n.url) },
    navigateBack() { fake.navigations.push('back') },
    stopPullDownRefresh() {},
    pageScrollTo(r) { fake.scrolls.push(r) },
    setNavigationBarTitle() {},
    vibrateShort() {},
    requestSubscribeMessage(r) {
      const res = fake.subscribeAnswer || r.tmplIds.reduce((a, id) => Object.assign(a, {[id]: 'accept'}), {errMsg: 'requestSubscribeMessage:ok'})
      setImmediate(() => r.success(res))
    },
    scanCode(r) {
      setImmediate(() => (fake.scanResult ? r.success({result: fake.scanResult}) : r.fail({errMsg: 'scanCode:fail cancel'})))
    },
    chooseMedia(r) {
      const files = (fake.mediaFiles || [{tempFilePath: 'http://tmp/photo1.jpg', size: 2048, fileType: 'image'}])
      setImmediate(() => r.success({tempFiles: files, type: 'image'}))
    },
    compressImage(r) {
      fake.compressed = (fake.compressed || []).concat(r.src)
      setImmediate(() => r.success({tempFilePath: r.src.replace(/(\.\w+)?$/, '-small$1'), errMsg: 'compressImage:ok'}))
    },
    chooseLocation(r) {
      setImmediate(() => r.success(fake.location || {name: '大厂镇政府', address: '河北省廊坊市大厂回族自治县', latitude: 39.88, longitude: 116.98}))
    },
    getLocation(r) {
      setImmediate(() => r.success(Object.assign({latitude: 39.88, longitude: 116.98, accuracy: 30, errMsg: 'getLocation:ok'}, fake.position || {})))
    },
    getRecorderManager() {
      const handlers = {}
      return {
        onStop(fn) { handlers.stop = fn },
        onError(fn) { handlers.error = fn },
        start() { fake.recording = true },
        stop() { fake.recording = false; setImmediate(() => handlers.stop && handlers.stop({tempFilePath: 'http://tmp/voice1.aac', duration: 5000, fileSize: 4000})) },
      }
    },
    previewImage() {},
  })

  function respond(req, handler, isUpload) {
    Promise.resolve()
      .then(() => handler(req))
      .then(res => {
        if (fake.contract) {
          const {checkExchange} = require('./contract')
          fake.contractErrors.push(...checkExchange(req, res && !res.fail ? res : null))
        }
        if (req.aborted) return
        if (!res || res.fail) {
          req.fail && req.fail({errMsg: (isUpload ? 'uploadFile' : 'request') + ':fail ' + ((res && res.fail) || 'network')})
          return
        }
        let data = res.data
        // wx.uploadFile hands the body over as a string; wx.request parses JSON.
        if (isUpload && typeof data !== 'string') data = JSON.stringify(data)
        req.success && req.success({statusCode: res.statusCode || 200, data, header: res.header || {}})
      }, err => {
        req.fail && req.fail({errMsg: 'request:fail ' + (err && err.message)})
      })
  }

  return fake
}

/** A promise with its resolve function outside, for holding responses back. */
function deferred() {
  let resolve
  let reject
  const promise = new Promise((res, rej) => { resolve = res; reject = rej })
  return {promise, resolve, reject}
}

/** Lets pending promise callbacks and setImmediate callbacks run. */
function flush(times) {
  let p = Promise.resolve()
  for (let i = 0; i < (times || 5); i++) p = p.then(() => new Promise(r => setImmediate(r)))
  return p
}

/** Path of a request url relative to the base. */
function pathOf(req) {
  return req.url.replace(/^https?:\/\/[^/]+/, '').replace(/\?.*$/, '')
}

module.exports = {createFakeWx, deferred, flush, pathOf, utf8Bytes}

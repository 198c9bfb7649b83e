// The single module that talks to the Shiliu server. Everything else (pages, the outbox) calls it.
//
// - wx.request / wx.uploadFile behind one queue: at most `maxConcurrent` (10, WeChat's limit)
//   requests in flight, the rest wait in order.
// - Bearer token; an expired access token is refreshed ONCE for all the requests that hit 401 at
//   the same time, and each of them is retried once with the new token.
// - A refresh that the server refuses (the refresh token is invalid, reused or the account is
//   disabled) clears the session and tells the listeners registered with onSessionExpired, so the
//   app can send the user to the login page. A refresh that fails for lack of network keeps the
//   session: the caller gets a network error and tries again later.
// - Every failure becomes an ApiError whose `message` is Chinese text fit for a phone: the
//   server's own `message` when it sent its error format, otherwise a fallback.
'use strict'

const defaults = require('../config')

const SESSION_KEY = 'shiliu.session'
const NETWORK_MESSAGE = '网络不给力,请稍后重试'
const SESSION_EXPIRED_MESSAGE = '登录已失效,请重新登录'

/** Fallback messages by HTTP status, for responses that are not in the server's error format. */
const STATUS_MESSAGES = {
  400: '提交的内容有误,请检查后重试',
  401: SESSION_EXPIRED_MESSAGE,
  403: '没有权限进行此操作',
  404: '内容不存在或已被删除',
  408: NETWORK_MESSAGE,
  409: '数据已变化,请刷新后重试',
  413: '内容过大,请减少照片或文字后重试',
  415: '文件类型不支持',
  429: '操作太频繁,请稍后再试',
  500: '服务器开小差了,请稍后重试',
  502: '服务暂时不可用,请稍后重试',
  503: '服务暂时不可用,请稍后重试',
  504: NETWORK_MESSAGE,
}

class ApiError extends Error {
  /**
   * @param {object} o
   * @param {string} o.message Chinese text to show
   * @param {number} [o.status] HTTP status; 0 for network failures
   * @param {string} [o.code] the server's machine code, or network / timeout / session_expired
   * @param {Array<{field:string,message:string}>} [o.details]
   * @param {string} [o.requestId]
   */
  constructor(o) {
    super(o.message)
    this.name = 'ApiError'
    this.status = o.status || 0
    this.code = o.code || 'unknown'
    this.details = o.details || []
    this.requestId = o.requestId || ''
  }

  /** A failure that may go away by itself: network, timeout, 408, 429, 5xx. */
  get retryable() {
    return isRetryableStatus(this.status)
  }

  /** The server refused the request for what it is (4xx other than 401, 408, 429). */
  get refused() {
    return this.status >= 400 && this.status < 500 && !this.retryable && this.status !== 401
  }

  /** One line with the field errors, for forms and the outbox. */
  get fullMessage() {
    if (!this.details.length) return this.message
    const fields = this.details.map(d => d.message).filter(m => m && this.message.indexOf(m) < 0)
    return fields.length ? this.message + '(' + fields.join(';') + ')' : this.message
  }
}

function isRetryableStatus(status) {
  return status === 0 || status === 408 || status === 429 || status >= 500
}

/** Turns a failed exchange into an ApiError. `res` is wx's success result, or null. */
function toApiError(res, failMsg) {
  if (!res) {
    const timeout = /timeout|超时/i.test(failMsg || '')
    return new ApiError({status: 0, code: timeout ? 'timeout' : 'network', message: NETWORK_MESSAGE})
  }
  let body = res.data
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body)
    } catch (e) {
      body = null
    }
  }
  const status = res.statusCode
  const requestId = headerValue(res.header, 'X-Request-ID')
  if (body && typeof body === 'object' && typeof body.message === 'string' && body.message) {
    return new ApiError({
      status,
      code: body.code || 'http_' + status,
      message: body.message,
      details: Array.isArray(body.details) ? body.details : [],
      requestId: body.request_id || requestId,
    })
  }
  const fallback = STATUS_MESSAGES[status] || (status >= 500 ? STATUS_MESSAGES[500] : '请求失败,请稍后重试')
  return new ApiError({status, code: 'http_' + status, message: fallback, requestId})
}

function headerValue(header, name) {
  if (!header) return ''
  const lower = name.toLowerCase()
  for (const k of Object.keys(header)) {
    if (k.toLowerCase() === lower) return String(header[k])
  }
  return ''
}

function encodeQuery(query) {
  if (!query) return ''
  const parts = []
  Object.keys(query).forEach(k => {
    const v = query[k]
    if (v === undefined || v === null || v === '') return
    // a list is the parameter repeated (status=a&status=b), as the API reads several values
    ;(Array.isArray(v) ? v : [v]).forEach(x => parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(x))))
  })
  return parts.length ? '?' + parts.join('&') : ''
}

function requestId() {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789'
  let s = 'mp-'
  for (let i = 0; i < 16; i++) s += chars[Math.floor(Math.random() * chars.length)]
  return s
}

/** A FIFO limiter: run(fn) waits for a free slot. */
function createLimiter(max) {
  let active = 0
  const waiting = []
  function next() {
    if (active >= max || !waiting.length) return
    active++
    const job = waiting.shift()
    let released = false
    const release = () => {
      if (released) return
      released = true
      active--
      next()
    }
    job(release)
  }
  return {
    run(fn) {
      return new Promise((resolve, reject) => {
        waiting.push(release => {
          let p
          try {
            p = Promise.resolve(fn())
          } catch (e) {
            p = Promise.reject(e)
          }
          p.then(v => { release(); resolve(v) }, e => { release(); reject(e) })
        })
        next()
      })
    },
    get active() { return active },
    get queued() { return waiting.length },
  }
}

/**
 * Creates a client. The app uses the default one exported below; tests make their own.
 * @param {object} [options]
 * @param {string} [options.baseURL]
 * @param {number} [options.requestTimeout]
 * @param {number} [options.uploadTimeout]
 * @param {number} [options.maxConcurrent]
 * @param {() => number} [options.now]
 */
/** A wx.login code (valid five minutes, once). */
function wxCode() {
  return new Promise((resolve, reject) => {
    wx.login({
      timeout: 10000,
      success: r => resolve(r.code),
      fail: () => reject(new ApiError({status: 0, code: 'wx_login_failed', message: '微信登录失败,请稍后重试'})),
    })
  })
}

function createClient(options) {
  const cfg = Object.assign({}, defaults, options || {})
  const now = cfg.now || (() => Date.now())
  const limiter = createLimiter(cfg.maxConcurrent || 10)
  const expiredListeners = []
  let session = null
  let sessionLoaded = false
  let refreshing = null

  function loadSession() {
    if (sessionLoaded) return session
    sessionLoaded = true
    try {
      const s = wx.getStorageSync(SESSION_KEY)
      session = s && typeof s === 'object' && s.access_token ? s : null
    } catch (e) {
      session = null
    }
    return session
  }

  function saveSession(tokens) {
    session = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      expires_at: now() + (tokens.expires_in || 0) * 1000,
      user: tokens.user || (session && session.user) || null,
    }
    sessionLoaded = true
    try {
      wx.setStorageSync(SESSION_KEY, session)
    } catch (e) {
      // Storage full: the session still works until the app is closed.
    }
    return session
  }

  function clearSession() {
    session = null
    sessionLoaded = true
    refreshing = null
    try {
      wx.removeStorageSync(SESSION_KEY)
    } catch (e) {
      // nothing to do
    }
  }

  function expire() {
    clearSession()
    expiredListeners.slice().forEach(fn => {
      try {
        fn()
      } catch (e) {
        // a listener's failure must not break the others
      }
    })
  }

  /** One exchange with the server, through the queue. Resolves with wx's success result. */
  function exchange(kind, url, opts, token) {
    return limiter.run(() => new Promise((resolve, reject) => {
      const header = Object.assign({'X-Request-ID': requestId()}, opts.header || {})
      if (token) header.Authorization = 'Bearer ' + token
      const timeout = opts.timeout || (kind === 'upload' ? cfg.uploadTimeout : cfg.requestTimeout)
      let settled = false
      let task = null
      // wx enforces `timeout` itself; this guard covers a platform that never calls back.
      const guard = setTimeout(() => {
        if (settled) return
        settled = true
        try {
          if (task && task.abort) task.abort()
        } catch (e) {
          // ignore
        }
        reject(new ApiError({status: 0, code: 'timeout', message: NETWORK_MESSAGE}))
      }, timeout + 2000)
      const done = (fn, v) => {
        if (settled) return
        settled = true
        clearTimeout(guard)
        fn(v)
      }
      const success = res => done(resolve, res)
      const fail = err => done(reject, toApiError(null, err && err.errMsg))
      if (kind === 'upload') {
        task = wx.uploadFile({url, filePath: opts.filePath, name: opts.name || 'file', formData: opts.formData,
          header, timeout, success, fail})
      } else {
        // A caller's own Content-Type stays (the ArrayBuffer chunks of a resumable upload).
        if (opts.data !== undefined && !headerValue(header, 'Content-Type')) header['Content-Type'] = 'application/json'
        task = wx.request({url, method: opts.method || 'GET', data: opts.data, header, timeout, dataType: 'json',
          success, fail})
      }
    }))
  }

  /**
   * Rotates the tokens. Concurrent callers share one refresh. Resolves with the new access token;
   * rejects with an ApiError (session_expired when the server refused the refresh token).
   */
  function refresh() {
    if (refreshing) return refreshing
    const s = loadSession()
    if (!s || !s.refresh_token) {
      expire()
      return Promise.reject(new ApiError({status: 401, code: 'session_expired', message: SESSION_EXPIRED_MESSAGE}))
    }
    const p = exchange('request', cfg.baseURL + '/api/v1/auth/refresh', {method: 'POST', data: {refresh_token: s.refresh_token}})
      .then(res => {
        if (res.statusCode >= 200 && res.statusCode < 300 && res.data && res.data.access_token) {
          return saveSession(res.data).access_token
        }
        const err = toApiError(res)
        if (err.retryable) throw err
        // 400/401/403: the refresh token is no good (or was reused: the server revoked the login).
        expire()
        throw new ApiError({status: 401, code: 'session_expired', message: SESSION_EXPIRED_MESSAGE, requestId: err.requestId})
      })
    refreshing = p
    const clear = () => {
      if (refreshing === p) refreshing = null
    }
    p.then(clear, clear)
    return p
  }

  /** A valid access token, refreshing first when the stored one has run out. */
  function currentToken() {
    const s = loadSession()
    if (!s) return Promise.resolve(null)
    if (refreshing) return refreshing
    if (s.expires_at && now() > s.expires_at - 30000) return refresh()
    return Promise.resolve(s.access_token)
  }

  function parseBody(res) {
    let body = res.data
    if (typeof body === 'string') {
      if (body === '') return null
      try {
        body = JSON.parse(body)
      } catch (e) {
        throw new ApiError({status: res.statusCode, code: 'bad_response', message: '服务器返回的内容无法识别,请稍后重试'})
      }
    }
    return body === undefined ? null : body
  }

  /**
   * Sends a request (kind 'request') or an upload (kind 'upload'). Authenticated calls get the
   * bearer token; a 401 refreshes (shared) and retries once.
   */
  function send(kind, path, opts) {
    const url = cfg.baseURL + path + encodeQuery(opts.query)
    const auth = opts.auth !== false
    const attempt = (token, retried) => exchange(kind, url, opts, token).then(res => {
      if (res.statusCode >= 200 && res.statusCode < 300) return opts.raw ? res : parseBody(res)
      if (res.statusCode === 401 && auth && token && !retried) {
        // Another request may have refreshed already: use its token, else refresh (shared).
        const s = loadSession()
        const next = s && s.access_token !== token ? Promise.resolve(s.access_token) : refresh()
        return next.then(t => attempt(t, true))
      }
      if (res.statusCode === 401 && auth && token && retried) {
        expire()
        throw new ApiError({status: 401, code: 'session_expired', message: SESSION_EXPIRED_MESSAGE})
      }
      throw toApiError(res)
    })
    if (!auth) return attempt(null, false)
    return currentToken().then(token => {
      if (!token) {
        throw new ApiError({status: 401, code: 'session_expired', message: SESSION_EXPIRED_MESSAGE})
      }
      return attempt(token, false)
    })
  }

  const client = {
    ApiError,
    config: cfg,
    limiter,

    request(method, path, data, opts) {
      return send('request', path, Object.assign({method, data}, opts || {}))
    },
    get(path, query, opts) {
      return send('request', path, Object.assign({method: 'GET', query}, opts || {}))
    },
    post(path, data, opts) {
      return send('request', path, Object.assign({method: 'POST', data: data === undefined ? {} : data}, opts || {}))
    },
    patch(path, data, opts) {
      return send('request', path, Object.assign({method: 'PATCH', data}, opts || {}))
    },
    put(path, data, opts) {
      return send('request', path, Object.assign({method: 'PUT', data}, opts || {}))
    },

    /** Uploads a photo or voice note; resolves with the server's Upload ({id, kind, url…}). */
    upload(filePath, opts) {
      return send('upload', '/api/v1/uploads', Object.assign({filePath, name: 'file'}, opts || {}))
    },

    /**
     * One request answered as wx gives it ({statusCode, data, header}) when 2xx, for protocols
     * that speak in headers (the resumable uploads); errors are ApiErrors as for the others.
     */
    raw(method, path, opts) {
      return send('request', path, Object.assign({method, raw: true}, opts || {}))
    },

    // ---- session
    isLoggedIn() {
      return !!loadSession()
    },
    user() {
      const s = loadSession()
      return s ? s.user : null
    },
    session() {
      return loadSession()
    },
    setSession: saveSession,
    clearSession,
    refresh,
    onSessionExpired(fn) {
      expiredListeners.push(fn)
      return () => {
        const i = expiredListeners.indexOf(fn)
        if (i >= 0) expiredListeners.splice(i, 1)
      }
    },

    /**
     * WeChat login: wx.login → POST /auth/wechat/login. Resolves with {tokens} when the WeChat
     * user is bound (the session is saved), or {bindTicket, expiresIn} when not.
     */
    wechatLogin() {
      return wxCode().then(code => send('request', '/api/v1/auth/wechat/login', {method: 'POST', data: {code}, auth: false}))
        .then(body => {
          if (body && body.access_token) {
            saveSession(body)
            return {tokens: body}
          }
          return {bindTicket: body.bind_ticket, expiresIn: body.expires_in}
        })
    },

    /** Binds the WeChat user to an instructor with an invite code or a getPhoneNumber code. */
    bind(bindTicket, {inviteCode, phoneCode}) {
      const data = {bind_ticket: bindTicket}
      if (inviteCode) data.invite_code = String(inviteCode).trim().toUpperCase()
      if (phoneCode) data.phone_code = phoneCode
      return send('request', '/api/v1/auth/wechat/bind', {method: 'POST', data, auth: false}).then(body => {
        saveSession(body)
        return body
      })
    },

    /** Staff password login (county staff use the mini-program for tip alerts). */
    passwordLogin(username, password) {
      return send('request', '/api/v1/auth/password/login', {method: 'POST', data: {username, password}, auth: false})
        .then(body => {
          saveSession(body)
          return body
        })
    },

    /**
     * Links the signed-in staff account to this WeChat user (wx.login → POST /me/wechat): tip
     * alerts then reach them as subscribe messages, and WeChat login works without the password.
     */
    linkWeChat() {
      return wxCode().then(code => send('request', '/api/v1/me/wechat', {method: 'POST', data: {code}}))
    },

    /** Merges fields the server reported elsewhere (e.g. on_duty) into the session's user. */
    updateUser(patch) {
      const s = loadSession()
      if (!s || !s.user) return
      s.user = Object.assign({}, s.user, patch)
      try {
        wx.setStorageSync(SESSION_KEY, s)
      } catch (e) {
        // kept in memory
      }
    },

    /** GET /me, keeping the session's user fresh. */
    me() {
      return send('request', '/api/v1/me', {method: 'GET'}).then(body => {
        const s = loadSession()
        if (s && body && body.user) {
          s.user = body.user
          try {
            wx.setStorageSync(SESSION_KEY, s)
          } catch (e) {
            // ignore
          }
        }
        return body
      })
    },

    logout() {
      const had = loadSession()
      const done = () => clearSession()
      if (!had) return Promise.resolve()
      return send('request', '/api/v1/auth/logout', {method: 'POST'}).then(done, done)
    },
  }
  return client
}

let defaultClient = null

/** The app's client (created on first use, so tests can install their `wx` first). */
function getClient() {
  if (!defaultClient) defaultClient = createClient()
  return defaultClient
}

/** Replaces the app's client (tests, or a build pointing at another server). */
function setClient(c) {
  defaultClient = c
}

module.exports = {
  createClient,
  getClient,
  setClient,
  ApiError,
  toApiError,
  headerValue,
  isRetryableStatus,
  createLimiter,
  NETWORK_MESSAGE,
  SESSION_EXPIRED_MESSAGE,
  SESSION_KEY,
}

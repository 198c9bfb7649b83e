// The offline outbox. Every record is saved on the phone first, as a draft with its client_id
// (UUID v4, made once at creation), and sent when the network allows:
//
//   草稿 draft → 待上传 queued → 上传中 sending → 已提交 submitted
//                                   ↘ 失败 failed (the server refused it: reason + retry button)
//
// - Text lives in wx storage, one key per record plus an index key, within WeChat's limits (1 MB a
//   key, 10 MB in all), measured in UTF-8 bytes. Photos and voice notes stay files on the phone
//   (saved with saveFile so they outlive the temp folder); only their paths are stored.
// - Sending a new record is text first: the record goes with its photos and voice notes declared
//   by their client_ids (`attachment_client_ids`); the server stores it and raises its alerts at
//   once, shows the files as on the way (照片上传中), and attaches each upload carrying one of those
//   client_ids when it arrives. Then the files go up, one by one. A draft shows where it is:
//   待上传 → 文字已发送 · 照片 n/m → 已完成. A file that cannot be read any more (gone from the
//   phone), or that the server refuses (type, size), fails that file, not the record: the record
//   is on the server, and the file is shown as failed (the server shows it 未送达 in time).
// - Order: every queued record's text before any file (fifty records' text are about as many bytes
//   as one photo), up to TEXT_PARALLEL texts in flight, the next starting as one is answered (on a
//   2G link a request spends more time on round trips and lost segments than on its bytes); then
//   resubmits and task reports; then the files, one at a time. A tip of level major (重大) or
//   critical (特别重大) goes first in each: its text before every other text, so before every
//   photo; its photos before the others'. Within a priority, first in, first out.
// - Corrections of returned records (resubmit) and task reports still send their files first,
//   then the request with the upload ids (their endpoints do not take declared client_ids).
// - Every file upload goes through one function, putFile: resumable.js's uploadFile (a small
//   file in one request, a large one in chunks that survive a dropped connection and a restart).
// - Each photo or voice note gets its own client_id (UUID v4) when it is added to a draft, stored
//   with the draft and sent with every upload of that file (form field `client_id`): a server that
//   knows the id hands back the first upload instead of keeping a second copy when an upload's
//   answer was lost on the way back. A server that does not know the field ignores it.
// - Besides the four field records it carries task reports (交办任务的进展反馈,
//   POST /api/v1/tasks/{id}/reports). They need exactly what records need (text kept on the phone
//   until the server has it, photos uploaded once, a client_id so a retried report is stored once,
//   backoff, 失败 with the server's reason and a retry button), so they ride this queue instead of a
//   second copy of it; only the route, the body and the summary kept afterwards differ.
// - The server deletes an upload that no record took within `uploads.orphan_after` (default 7
//   days), and then refuses a record that refers to it: 400 with a detail on the field
//   `attachments`. A draft that failed, or waited offline, that long meets this. When a record (or
//   task report) is refused with a detail on `attachments`, the upload ids of its photos and voice
//   notes that were uploaded before this send are forgotten and the record is sent again at once,
//   its files uploaded anew (the files stay on the phone until the server has the record). Each
//   file keeps its client_id: the sweep deletes the upload's row, and with it the server's memory
//   of that client_id, so the same id stores a new upload (and a file whose upload was not swept
//   gets its id back, 200). Refused the same way right after fresh uploads, the record is 失败
//   with the server's message: uploading again would not help.
// - A network failure, timeout, 408, 429 or 5xx leaves the record queued and retries it with
//   exponential backoff and jitter; the outbox resumes at once when the network comes back
//   (wx.onNetworkStatusChange) and when the app is shown.
// - Any other 4xx stops retrying that record: it becomes 失败 with the server's reason, and waits
//   for the user (edit, retry, or delete). 401 means the login ran out: records stay queued and
//   the app asks the user to log in again.
// - Nothing is removed except by the user (a draft or a failed record) or after it is stored on
//   the server (its local copy is trimmed to a summary, its files deleted).
'use strict'

const {uuidv4} = require('./uuid')
const {uploadFile} = require('./resumable')
const {utf8Length, formatBytes} = require('../utils/bytes')
const {KINDS} = require('../utils/records')
const {MAX_ATTACHMENTS} = require('../utils/limits')

const INDEX_KEY = 'outbox.index'
const ITEM_PREFIX = 'outbox.item.'
const PER_KEY_LIMIT = 1024 * 1024 // WeChat: 1 MB per key
const TOTAL_LIMIT = 10 * 1024 * 1024 // WeChat: 10 MB per mini-program and user
const TOTAL_RESERVE = 256 * 1024 // left for the session, dictionaries and caches
const KEEP_SUBMITTED = 50 // trimmed summaries kept for the records list

// How many records' text are sent at once (wx.request allows 10).
const TEXT_PARALLEL = 4

const BACKOFF_BASE = 2000
const BACKOFF_CAP = 5 * 60 * 1000

// Tip levels (openapi.yaml TipLevel, utils/records.js tip_level) that jump the queue.
const URGENT_TIP_LEVELS = ['major', 'critical']

// What the outbox carries besides the record kinds of utils/records.js.
const TASK_REPORT = 'task_report'
const OTHER_KINDS = {
  task_report: {name: TASK_REPORT, label: '任务反馈', short: '反馈'},
}
const MAX_REPORT_TEXT = 2000

function kindOf(name) {
  return KINDS[name] || OTHER_KINDS[name] || null
}

/**
 * A refusal naming the attachments (details field `attachments`, or one starting with it): an
 * upload the record refers to is gone from the server, e.g. swept as an orphan (see the header).
 */
function refusesAttachments(err) {
  return !!err && !!err.refused && err.attachmentIndex === undefined && Array.isArray(err.details) &&
    err.details.some(d => !!d && typeof d.field === 'string' && d.field.indexOf('attachments') === 0)
}

/** A tip the county must hear of first (see the header). */
function isUrgent(it) {
  const tip = it && it.kind === 'tip' && it.record ? it.record.tip : null
  return !!tip && URGENT_TIP_LEVELS.indexOf(tip.level) >= 0
}

/** Whether a record goes text first (a new field record; not a resubmit, not a task report). */
function textFirst(it) {
  return !!it && it.kind !== TASK_REPORT && it.mode !== 'resubmit'
}

/** Whether its text still has to go (for the others: anything at all). */
function needsText(it) {
  return !textFirst(it) || !it.text_sent
}

/** Files of a text-first record still to upload: neither uploaded nor failed. */
function photosLeft(it) {
  return (it.attachments || []).filter(a => !a.upload_id && !a.failed)
}

/**
 * What a draft shows of its sending: 文字已发送 · 照片 n/m while its files go up, 已完成 at the end
 * (with the files that failed). Empty before the text is sent.
 */
function progressOf(it) {
  if (!textFirst(it) || !it.text_sent) return {label: '', done: 0, total: 0, failed: 0}
  const all = it.attachments || []
  const done = all.filter(a => a.upload_id).length
  const failed = all.filter(a => a.failed && !a.upload_id).length
  const total = all.length
  let label
  if (done + failed < total) label = '文字已发送 · 照片 ' + done + '/' + total
  else if (failed) label = '已完成 · 照片 ' + done + '/' + total + ',' + failed + '个未能发送'
  else label = '已完成'
  return {label, done, total, failed}
}

const STATE_LABELS = {
  draft: '草稿',
  queued: '待上传',
  sending: '上传中',
  submitted: '已提交',
  returned: '被退回',
  failed: '失败',
}

class OutboxError extends Error {
  constructor(message, code) {
    super(message)
    this.name = 'OutboxError'
    this.code = code || 'outbox'
  }
}

/**
 * Delay before the n-th retry (n ≥ 1): exponential from 2 s, capped at 5 min, with "equal jitter":
 * uniformly between half and all of the exponential step, so phones that lost the network
 * together do not come back together.
 */
function backoffDelay(attempt, random) {
  const r = random ? random() : Math.random()
  const step = Math.min(BACKOFF_CAP, BACKOFF_BASE * Math.pow(2, Math.max(0, attempt - 1)))
  return Math.round(step / 2 + r * (step / 2))
}

function clone(x) {
  return x === undefined ? undefined : JSON.parse(JSON.stringify(x))
}

/**
 * @param {object} o
 * @param {object} o.client the API client (getClient())
 * @param {() => number} [o.now]
 * @param {() => number} [o.random]
 * @param {(fn: () => void, ms: number) => any} [o.setTimer]
 * @param {(t: any) => void} [o.clearTimer]
 * @param {(p: {client_id:string, index:number, sent:number, total:number}) => void} [o.onUploadProgress]
 *   how far each attachment has gone up, in bytes
 */
function createOutbox(o) {
  const client = o.client
  const now = o.now || (() => Date.now())
  const random = o.random || Math.random
  const setTimer = o.setTimer || ((fn, ms) => setTimeout(fn, ms))
  const clearTimer = o.clearTimer || (t => clearTimeout(t))
  const listeners = []
  const authListeners = []
  let flushing = null
  let again = false
  let timer = null
  let netHandler = null

  // ---- storage

  function index() {
    const ids = wx.getStorageSync(INDEX_KEY)
    return Array.isArray(ids) ? ids : []
  }

  function load(id) {
    const it = wx.getStorageSync(ITEM_PREFIX + id)
    return it && typeof it === 'object' ? it : null
  }

  /** Bytes the outbox and everything else hold in storage now, from WeChat's own count. */
  function storageUsed() {
    try {
      const info = wx.getStorageInfoSync()
      return {used: info.currentSize * 1024, limit: (info.limitSize || TOTAL_LIMIT / 1024) * 1024}
    } catch (e) {
      return {used: 0, limit: TOTAL_LIMIT}
    }
  }

  function bytesOf(key, value) {
    return utf8Length(key) + utf8Length(JSON.stringify(value))
  }

  /** Writes an item, refusing with a clear message rather than losing it. */
  function write(item, isNew) {
    const key = ITEM_PREFIX + item.client_id
    const size = bytesOf(key, item)
    if (size > PER_KEY_LIMIT) {
      throw new OutboxError('这条记录的文字太长(约' + formatBytes(size) + '),超过了手机单条存储上限1MB,请精简文字后再保存',
        'too_large')
    }
    const old = isNew ? null : wx.getStorageSync(key)
    const oldSize = old ? bytesOf(key, old) : 0
    let st = storageUsed()
    if (st.used - oldSize + size > st.limit - TOTAL_RESERVE) {
      trimSubmitted(0)
      st = storageUsed()
      if (st.used - oldSize + size > st.limit - TOTAL_RESERVE) {
        throw new OutboxError('手机上保存的草稿已接近10MB上限(已用' + formatBytes(st.used) +
          '),请先连网提交已有记录,或删除不需要的草稿后再保存', 'storage_full')
      }
    }
    try {
      wx.setStorageSync(key, item)
    } catch (e) {
      throw new OutboxError('保存失败:手机存储空间不足,请先连网提交已有记录,或删除不需要的草稿', 'storage_full')
    }
    if (isNew) {
      const ids = index()
      ids.push(item.client_id)
      try {
        wx.setStorageSync(INDEX_KEY, ids)
      } catch (e) {
        wx.removeStorageSync(key)
        throw new OutboxError('保存失败:手机存储空间不足,请先连网提交已有记录,或删除不需要的草稿', 'storage_full')
      }
    }
  }

  function save(item) {
    item.updated_at = now()
    write(item, false)
    emit()
  }

  /** Drops the oldest trimmed summaries of submitted records beyond `keep`. */
  function trimSubmitted(keep) {
    const ids = index()
    const submitted = ids.filter(id => {
      const it = load(id)
      return it && it.state === 'submitted'
    })
    const drop = submitted.slice(0, Math.max(0, submitted.length - keep))
    if (!drop.length) return
    drop.forEach(id => wx.removeStorageSync(ITEM_PREFIX + id))
    wx.setStorageSync(INDEX_KEY, ids.filter(id => drop.indexOf(id) < 0))
  }

  function emit() {
    const items = list()
    listeners.slice().forEach(fn => {
      try {
        fn(items)
      } catch (e) {
        // a page's listener must not stop the outbox
      }
    })
  }

  // ---- public: drafts

  /** Every record in the outbox, newest first, each with its state label. */
  function list() {
    return index().map(load).filter(Boolean).reverse().map(decorate)
  }

  function decorate(it) {
    const k = kindOf(it.kind)
    const progress = progressOf(it)
    const partial = !!progress.label && it.state !== 'submitted'
    return Object.assign(clone(it), {
      state_label: partial ? '文字已发送' : (STATE_LABELS[it.state] || it.state),
      // the tag a draft shows: text_sent while its files go up (components/record-state)
      display_state: partial ? 'text_sent' : it.state,
      kind_label: k ? k.label : it.kind,
      progress_label: progress.label,
      progress,
    })
  }

  function get(clientId) {
    const it = load(clientId)
    return it ? decorate(it) : null
  }

  /**
   * Saves a draft (new, or changes to one not yet sent). Returns the item.
   * @param {object} d
   * @param {string} d.kind visit | sentiment | tip | mediation | task_report
   * @param {object} d.record the request body without client_id and attachments; for a task
   *   report {text, done}
   * @param {Array<{path:string,type:string,size?:number,duration?:number,upload_id?:number,client_id?:string}>} [d.attachments]
   * @param {string} [d.client_id] to update an existing draft
   * @param {number} [d.server_id] set when correcting a record the staff returned (resubmit)
   * @param {string} [d.return_note]
   * @param {number} [d.task_id] a task report's task
   * @param {string} [d.task_title] shown with a task report while it waits
   */
  function saveDraft(d) {
    if (!kindOf(d.kind)) throw new OutboxError('未知的记录类型', 'bad_kind')
    if (d.kind === TASK_REPORT) checkReport(d)
    const attachments = (d.attachments || []).map(a => ({
      path: a.path, type: a.type === 'audio' ? 'audio' : 'image', size: a.size || 0, duration: a.duration || 0,
      upload_id: a.upload_id || null, client_id: a.client_id || '',
    }))
    if (d.client_id) {
      const it = load(d.client_id)
      if (!it) throw new OutboxError('草稿不存在', 'not_found')
      if (it.state === 'sending') throw new OutboxError('这条记录正在上传,请稍候再修改', 'busy')
      if (it.state === 'submitted') throw new OutboxError('这条记录已提交,不能再修改', 'submitted')
      if (it.text_sent) throw new OutboxError('这条记录的文字已发送,照片正在上传,不能再修改', 'submitted')
      // A queued record that was already tried may have reached the server under its client_id:
      // changing it now would be refused as a conflict (or, with a new id, stored twice).
      if (it.state === 'queued' && it.attempts > 0) {
        throw new OutboxError('这条记录正在等待网络重发,可能已送达服务器,暂时不能修改', 'busy')
      }
      // Files that were uploaded keep their ids; a changed file is uploaded anew. A kept file keeps
      // its client_id too, so an upload whose answer was lost is recognised by the server.
      attachments.forEach(a => {
        const was = (it.attachments || []).find(x => x.path === a.path)
        if (was && was.upload_id) a.upload_id = was.upload_id
        if (was && was.client_id) a.client_id = was.client_id
      })
      withClientIds(attachments)
      it.record = clone(d.record)
      it.attachments = attachments
      it.state = 'draft'
      it.error = null
      it.last_error = ''
      save(it)
      return decorate(it)
    }
    withClientIds(attachments)
    const t = now()
    const item = {
      client_id: uuidv4(),
      kind: d.kind,
      mode: d.server_id ? 'resubmit' : 'create',
      server_id: d.server_id || null,
      return_note: d.return_note || '',
      record: clone(d.record),
      attachments,
      state: 'draft',
      attempts: 0,
      next_attempt_at: 0,
      error: null,
      last_error: '',
      created_at: t,
      updated_at: t,
      submitted_at: 0,
    }
    if (d.kind === TASK_REPORT) {
      item.task_id = d.task_id
      item.task_title = d.task_title || ''
    }
    write(item, true)
    emit()
    return decorate(item)
  }

  /** Gives each attachment without one its client_id (made once, kept with the draft). */
  function withClientIds(attachments) {
    attachments.forEach(a => {
      if (!a.client_id) a.client_id = uuidv4()
    })
  }

  /** The limits of TaskReportInput, checked before a report is kept. */
  function checkReport(d) {
    if (!(d.task_id > 0)) throw new OutboxError('任务不存在', 'bad_task')
    const text = d.record && typeof d.record.text === 'string' ? d.record.text.trim() : ''
    if (!text) throw new OutboxError('请填写进展情况', 'invalid')
    if (Array.from(text).length > MAX_REPORT_TEXT) throw new OutboxError('进展情况最多' + MAX_REPORT_TEXT + '个字', 'invalid')
    if ((d.attachments || []).length > MAX_ATTACHMENTS) throw new OutboxError('照片最多' + MAX_ATTACHMENTS + '张', 'invalid')
  }

  /** Queues a draft (or a failed record, after the user's changes) for sending. */
  function queue(clientId) {
    const it = load(clientId)
    if (!it) throw new OutboxError('记录不存在', 'not_found')
    if (it.state === 'submitted' || it.state === 'sending') return decorate(it)
    it.state = 'queued'
    it.error = null
    it.attempts = 0
    it.next_attempt_at = 0
    save(it)
    flush()
    return decorate(it)
  }

  /** Saves and queues in one step: what the form's 提交 button does. */
  function submit(d) {
    const it = saveDraft(d)
    return queue(it.client_id)
  }

  /** The retry button of a failed record (and "send now" for a queued one). */
  function retry(clientId) {
    const it = load(clientId)
    if (!it) throw new OutboxError('记录不存在', 'not_found')
    if (it.state !== 'failed' && it.state !== 'queued') return decorate(it)
    return queue(clientId)
  }

  /** Deletes a draft or a failed record, at the user's request. Never a queued or sent one. */
  function remove(clientId) {
    const it = load(clientId)
    if (!it) return
    if (it.state !== 'draft' && it.state !== 'failed') {
      throw new OutboxError('只能删除草稿或发送失败的记录', 'not_removable')
    }
    deleteFiles(it)
    wx.removeStorageSync(ITEM_PREFIX + clientId)
    wx.setStorageSync(INDEX_KEY, index().filter(id => id !== clientId))
    emit()
  }

  function deleteFiles(it) {
    let fs = null
    try {
      fs = wx.getFileSystemManager()
    } catch (e) {
      return
    }
    ;(it.attachments || []).forEach(a => {
      if (!/^wxfile:\/\/store|^wxfile:\/\/usr|store_/.test(a.path)) return
      try {
        fs.removeSavedFile({filePath: a.path, fail() {}})
      } catch (e) {
        // already gone
      }
    })
  }

  // ---- sending

  function networkType() {
    return new Promise(resolve => {
      try {
        wx.getNetworkType({success: r => resolve(r.networkType), fail: () => resolve('unknown')})
      } catch (e) {
        resolve('unknown')
      }
    })
  }

  /**
   * Sends what is queued. Concurrent calls share one run (and ask for another pass when
   * something was queued meanwhile). `force` ignores the backoff (network back, app shown).
   */
  function flush(opts) {
    const force = !!(opts && opts.force)
    if (flushing) {
      again = true
      if (force) forceNext = true
      return flushing
    }
    forceNext = force
    flushing = (async () => {
      do {
        again = false
        const f = forceNext
        forceNext = false
        await runOnce(f)
      } while (again)
    })().finally(() => {
      flushing = null
      schedule()
    })
    return flushing
  }
  let forceNext = false

  async function runOnce(force) {
    if (!client.isLoggedIn()) return
    if ((await networkType()) === 'none') return
    // One item at a time, choosing the next after each send: an urgent tip queued meanwhile goes
    // next. Each item is tried at most once a pass (a forced pass would otherwise spin on a record
    // that keeps failing).
    // A text-first record whose text went is tried again in the same pass for its next file.
    const tried = {}
    for (;;) {
      const texts = dueTexts(force, tried, TEXT_PARALLEL)
      if (texts.length) {
        const stop = await sendTexts(texts, force, tried)
        if (stop === 'auth') {
          authListeners.slice().forEach(fn => fn())
          return
        }
        if (stop === 'network') return // the link is down: the rest would fail the same way
        continue
      }
      const it = nextSingle(force, tried)
      if (!it) return
      tried[it.client_id] = true
      const outcome = await sendItem(it)
      if (outcome === 'auth') {
        authListeners.slice().forEach(fn => fn())
        return
      }
      if (outcome === 'network') return
      // its files go up again now, then the record; or its next file
      if (outcome === 'reupload' || outcome === 'next') delete tried[it.client_id]
    }
  }

  /** The queued items that are due and not tried in this pass, in queue order. */
  function due(force, tried) {
    const out = []
    for (const id of index()) {
      if (tried[id]) continue
      const it = load(id)
      if (!it || it.state !== 'queued') continue
      if (!force && it.next_attempt_at > now()) continue
      out.push(it)
    }
    return out
  }

  /** Urgent tips first, each group first in, first out. */
  function urgentFirst(items) {
    return items.filter(isUrgent).concat(items.filter(it => !isUrgent(it)))
  }

  /** Up to n text-first records whose text is due. */
  function dueTexts(force, tried, n) {
    return urgentFirst(due(force, tried).filter(it => textFirst(it) && !it.text_sent)).slice(0, n)
  }

  /**
   * When no text waits: a resubmit or task report (files and request together), else the next
   * file of a record whose text went; urgent tips first.
   */
  function nextSingle(force, tried) {
    const items = due(force, tried)
    return urgentFirst(items.filter(it => !textFirst(it)))[0] || urgentFirst(items.filter(it => textFirst(it) && it.text_sent))[0] || null
  }

  /**
   * Sends texts with up to TEXT_PARALLEL in flight: as one is answered the next due text starts
   * (a text held up by a lost segment does not hold the others back). Resolves once none is in
   * flight and none is due, or after a network failure or an expired login ('network', 'auth'),
   * letting those in flight finish.
   */
  async function sendTexts(first, force, tried) {
    let stop = ''
    const running = new Set()
    const start = it => {
      tried[it.client_id] = true
      const p = sendItem(it).then(outcome => {
        running.delete(p)
        if ((outcome === 'auth' || outcome === 'network') && stop !== 'auth') stop = outcome
        if (outcome === 'reupload' || outcome === 'next') delete tried[it.client_id] // sent again at once; or its files follow
      })
      running.add(p)
    }
    first.forEach(start)
    while (running.size) {
      await Promise.race(running)
      if (stop) continue
      dueTexts(force, tried, TEXT_PARALLEL - running.size).forEach(start)
    }
    return stop
  }

  /** Tells o.onUploadProgress how far a file of a record has gone up (bytes sent of total). */
  function uploadProgress(it, index, sent, total) {
    if (!o.onUploadProgress) return
    try {
      o.onUploadProgress({client_id: it.client_id, index, sent, total})
    } catch (e) {
      // a page's listener must not stop the outbox
    }
  }

  /**
   * Uploads the i-th file of an item with its client_id: the one place the outbox sends a file.
   * Large files go up in chunks that survive a dropped connection and an app restart (resumable.js):
   * the upload's URL is kept with the attachment (a.resume) until the file is stored. Resolves to
   * the server's Upload.
   */
  function putFile(it, i) {
    const a = it.attachments[i]
    return uploadFile(client, a.path, {
      clientId: a.client_id, size: a.size, state: a.resume || null,
      onState: st => {
        if (st) a.resume = st
        else delete a.resume
        save(it)
      },
      onProgress: (sent, total) => uploadProgress(it, i, sent, total),
    })
  }

  function sendItem(it) {
    if (!textFirst(it)) return sendWhole(it)
    return it.text_sent ? sendNextFile(it) : sendText(it)
  }

  /** A text-first record's text, with its files declared by client_id. */
  async function sendText(it) {
    const k = kindOf(it.kind)
    it.state = 'sending'
    it.attempts = (it.attempts || 0) + 1
    save(it)
    try {
      it.attachments.forEach(a => {
        if (!a.client_id) a.client_id = uuidv4() // a draft kept before files had their own id
      })
      // Files uploaded before (a draft sent by an older version of the app) go by id; the rest
      // are declared and follow.
      const attachments = it.attachments.filter(a => a.upload_id).map(a => a.upload_id)
      const declared = it.attachments.filter(a => !a.upload_id).map(a => a.client_id)
      const body = Object.assign({}, it.record, {client_id: it.client_id, attachments})
      if (declared.length) body.attachment_client_ids = declared
      const view = await client.post('/api/v1/' + k.path, body)
      if (!view || !view.id) {
        throw {status: 502, message: '服务器的回答不完整,稍后自动重试'}
      }
      it.text_sent = true
      it.text_sent_at = now()
      it.server_id = view.id
      it.server_status = view.status || ''
      it.server_status_name = view.status_name || ''
      it.error = null
      return stepDone(it)
    } catch (e) {
      return failed(it, e || {}, {})
    }
  }

  /** A step of a text-first record went through: its next file is queued, or it is done. */
  function stepDone(it) {
    it.attempts = 0
    it.last_error = ''
    it.next_attempt_at = 0
    if (photosLeft(it).length) {
      it.state = 'queued'
      save(it)
      return 'next'
    }
    finish(it)
    return 'ok'
  }

  /** The next file of a text-first record whose text is on the server. */
  async function sendNextFile(it) {
    const i = it.attachments.findIndex(a => !a.upload_id && !a.failed)
    if (i < 0) {
      finish(it)
      return 'ok'
    }
    const a = it.attachments[i]
    it.state = 'sending'
    it.attempts = (it.attempts || 0) + 1
    save(it)
    try {
      if (!(await fileExists(a.path))) {
        a.failed = '文件已不在手机上,未能发送'
      } else {
        try {
          const up = await putFile(it, i)
          if (!up || !up.id) throw {status: 502, message: '服务器的回答不完整,稍后自动重试'}
          a.upload_id = up.id
        } catch (e) {
          if (!e || !e.refused || e.code === 'session_expired') throw e
          // The server will not take this file (type, size): the others and the record stand.
          a.failed = (e.fullMessage || e.message || '服务器拒绝了这个文件')
        }
      }
      return stepDone(it)
    } catch (e) {
      return failed(it, e || {}, {})
    }
  }

  /** A record the server has whole (text, and every file that could go): trimmed to a summary. */
  function finish(it) {
    it.state = 'submitted'
    it.submitted_at = now()
    it.error = null
    it.last_error = ''
    it.next_attempt_at = 0
    deleteFiles(it)
    it.record = it.kind === TASK_REPORT
      ? {text: Array.from(it.record.text || '').slice(0, 40).join(''), done: !!it.record.done}
      : {title: it.record.title, occurred_at: it.record.occurred_at, place: it.record.place}
    it.attachments = it.attachments.map(a => Object.assign({path: '', type: a.type, upload_id: a.upload_id, client_id: a.client_id},
      a.failed ? {failed: a.failed} : {}))
    save(it)
    trimSubmitted(KEEP_SUBMITTED)
  }

  /** A resubmit or a task report: its files, then the request with their upload ids. */
  async function sendWhole(it) {
    const k = kindOf(it.kind)
    it.state = 'sending'
    it.attempts = (it.attempts || 0) + 1
    save(it)
    const fresh = {} // attachments uploaded in this send
    try {
      for (let i = 0; i < it.attachments.length; i++) {
        const a = it.attachments[i]
        if (a.upload_id) continue
        if (!a.client_id) {
          // a draft kept before attachments had their own id: give it one now, before the upload
          a.client_id = uuidv4()
          save(it)
        }
        if (!(await fileExists(a.path))) {
          // Gone from the phone (WeChat cleared it, or only a temp path was kept): no retry can
          // send it. The user removes it, or takes it again, and resubmits.
          throw {refused: true, code: 'file_missing', message: '文件已不在手机上,请删除后重新添加', attachmentIndex: i}
        }
        let up
        try {
          up = await putFile(it, i)
        } catch (e) {
          if (e && e.refused) e.attachmentIndex = i
          throw e
        }
        a.upload_id = up.id
        fresh[i] = true
        save(it) // remembered at once: a retry does not upload this file again
      }
      const attachments = it.attachments.map(a => a.upload_id)
      let view
      if (it.kind === TASK_REPORT) {
        view = await client.post('/api/v1/tasks/' + it.task_id + '/reports',
          {client_id: it.client_id, text: it.record.text, done: !!it.record.done, attachments})
      } else if (it.mode === 'resubmit') {
        if (!it.patched) {
          await client.patch('/api/v1/' + k.path + '/' + it.server_id, Object.assign({}, it.record, {attachments}))
          it.patched = true
          save(it)
        }
        try {
          view = await client.post('/api/v1/' + k.path + '/' + it.server_id + '/resubmit', {})
        } catch (e) {
          // The answer to an earlier resubmit may have been lost: the record is no longer returned.
          if (!e || e.status !== 409) throw e
          view = await client.get('/api/v1/' + k.path + '/' + it.server_id)
          if (view.status === 'returned') throw e
        }
      } else {
        view = await client.post('/api/v1/' + k.path, Object.assign({}, it.record, {client_id: it.client_id, attachments}))
      }
      if (!view || !view.id) {
        // A 2xx without the stored record is not proof it was stored (a proxy, a cut body):
        // ask again; the client_id makes the retry safe.
        throw {status: 502, message: '服务器的回答不完整,稍后自动重试'}
      }
      it.server_id = view.id
      it.server_status = (view && view.status) || ''
      it.server_status_name = (view && view.status_name) || ''
      finish(it)
      return 'ok'
    } catch (e) {
      return failed(it, e || {}, fresh)
    }
  }

  /**
   * A send that did not go through: queued again with backoff (network, 5xx), waiting for a login
   * (401), or 失败 with the server's reason (other 4xx). fresh are the files uploaded in this send.
   */
  function failed(it, err, fresh) {
    if (err.code === 'session_expired') {
      it.state = 'queued'
      it.attempts = Math.max(0, it.attempts - 1)
      it.last_error = '登录已失效,重新登录后自动上传'
      save(it)
      return 'auth'
    }
    if (refusesAttachments(err)) {
      // Uploads made before this send may have been swept: upload those files again (they are
      // still on the phone; files already on the server, as of a returned record, have no path).
      const stale = it.attachments.filter((a, i) => a.path && a.upload_id && !fresh[i])
      if (stale.length) {
        stale.forEach(a => { a.upload_id = null })
        it.state = 'queued'
        it.error = null
        it.last_error = '服务器上的附件已过期,正在重新上传'
        it.next_attempt_at = 0
        save(it)
        return 'reupload'
      }
    }
    if (err.refused) {
      it.state = 'failed'
      const what = err.attachmentIndex !== undefined
        ? (it.attachments[err.attachmentIndex].type === 'audio' ? '第' + (err.attachmentIndex + 1) + '个附件(录音)' : '第' + (err.attachmentIndex + 1) + '个附件(照片)') + ':'
        : ''
      it.error = {message: what + (err.fullMessage || err.message), code: err.code, status: err.status,
        details: err.details || [], request_id: err.requestId || ''}
      it.next_attempt_at = 0
      save(it)
      return 'refused'
    }
    // Network, timeout, 408, 429, 5xx, or anything unexpected: keep it and try again later.
    it.state = 'queued'
    it.last_error = err.message || '网络不给力,请稍后重试'
    it.next_attempt_at = now() + backoffDelay(it.attempts, random)
    save(it)
    return err.status === 0 || err.status === undefined ? 'network' : 'retry'
  }

  /** Whether a local file is still there; true when the platform cannot tell. */
  function fileExists(path) {
    return new Promise(resolve => {
      const fs = wx.getFileSystemManager ? wx.getFileSystemManager() : null
      if (!fs || typeof fs.access !== 'function') return resolve(true)
      fs.access({path, success: () => resolve(true), fail: () => resolve(false)})
    })
  }

  /** Arms one timer for the earliest queued record that waits for its backoff. */
  function schedule() {
    if (timer) {
      clearTimer(timer)
      timer = null
    }
    let next = Infinity
    index().forEach(id => {
      const it = load(id)
      if (it && it.state === 'queued') next = Math.min(next, it.next_attempt_at || 0)
    })
    if (next === Infinity || !client.isLoggedIn()) return
    timer = setTimer(() => {
      timer = null
      flush()
    }, Math.max(0, next - now()))
  }

  /** Loads the outbox after a restart and starts listening for the network. */
  function init() {
    index().forEach(id => {
      const it = load(id)
      // The app was closed while sending: send again (the client_id makes it safe).
      if (it && it.state === 'sending') {
        it.state = 'queued'
        it.next_attempt_at = 0
        write(it, false)
      }
    })
    if (!netHandler && wx.onNetworkStatusChange) {
      netHandler = res => {
        if (res && res.isConnected) flush({force: true})
      }
      wx.onNetworkStatusChange(netHandler)
    }
    emit()
    return flush({force: true})
  }

  function stop() {
    if (timer) clearTimer(timer)
    timer = null
    if (netHandler && wx.offNetworkStatusChange) wx.offNetworkStatusChange(netHandler)
    netHandler = null
  }

  return {
    init,
    stop,
    list,
    get,
    saveDraft,
    queue,
    submit,
    retry,
    remove,
    flush,
    /** Counts by state, for the home page badge. */
    counts() {
      const c = {draft: 0, queued: 0, sending: 0, submitted: 0, failed: 0}
      index().map(load).filter(Boolean).forEach(it => { c[it.state] = (c[it.state] || 0) + 1 })
      return c
    },
    subscribe(fn) {
      listeners.push(fn)
      return () => {
        const i = listeners.indexOf(fn)
        if (i >= 0) listeners.splice(i, 1)
      }
    },
    onAuthRequired(fn) {
      authListeners.push(fn)
    },
    get timerArmed() {
      return !!timer
    },
  }
}

let defaultOutbox = null

function getOutbox() {
  if (!defaultOutbox) defaultOutbox = createOutbox({client: require('../api/client').getClient()})
  return defaultOutbox
}

function setOutbox(o) {
  defaultOutbox = o
}

/** Moves a temp file (wx.chooseMedia, the recorder) into the app's saved files. */
function persistFile(tempPath) {
  return new Promise(resolve => {
    try {
      wx.getFileSystemManager().saveFile({
        tempFilePath: tempPath,
        success: r => resolve(r.savedFilePath),
        fail: () => resolve(tempPath), // keep the temp path: it lives until the app is closed
      })
    } catch (e) {
      resolve(tempPath)
    }
  })
}

module.exports = {
  createOutbox,
  getOutbox,
  setOutbox,
  persistFile,
  backoffDelay,
  OutboxError,
  STATE_LABELS,
  TASK_REPORT,
  URGENT_TIP_LEVELS,
  TEXT_PARALLEL,
  isUrgent,
  progressOf,
  INDEX_KEY,
  ITEM_PREFIX,
  PER_KEY_LIMIT,
  TOTAL_LIMIT,
  BACKOFF_BASE,
  BACKOFF_CAP,
}

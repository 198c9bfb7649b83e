// One task assigned to me (GET /api/v1/tasks/{id}: requirements, due time, attachments, my state),
// my reports on it (GET /api/v1/tasks/{id}/reports), and the report-back form.
//
// A report goes through the outbox like a field record: 提交 keeps the text and the photos' paths
// on the phone first, then the outbox uploads the photos (each once) and posts the report with its
// client_id, so a retry after a lost answer is stored once. Until the server has it the report is
// shown here as 待上传 / 上传中 / 失败 (with the server's reason, 重试, 修改 and 删除); it never
// disappears on a bad network.
const {priv} = require('../../utils/priv')
const {getClient} = require('../../api/client')
const {getOutbox, TASK_REPORT} = require('../../outbox/outbox')
const {formatTime} = require('../../utils/records')
const {taskView} = require('../../utils/tasks')
const {choosePhotos} = require('../../utils/photos')
const {requestSubscribe} = require('../../utils/subscribe')
const {MAX_ATTACHMENTS} = require('../../utils/limits')

const MAX_TEXT = 2000

function reportView(r, baseURL) {
  return {id: r.id, time: formatTime(r.created_at), text: r.text, done: !!r.done,
    images: (r.attachments || []).filter(a => a.kind === 'image').map(a => baseURL + a.url)}
}

function localView(it) {
  return {client_id: it.client_id, state: it.state, text: it.record.text, done: !!it.record.done,
    photos: (it.attachments || []).filter(a => a.path).map(a => a.path),
    error: it.state === 'failed' && it.error ? it.error.message : '',
    note: it.state === 'queued' && it.last_error ? it.last_error + ',将自动重试' : ''}
}

function emptyForm() {
  return {text: '', done: false, photos: [], editingId: ''}
}

Component({
  data: {
    id: 0,
    loading: false,
    error: '',
    task: null,
    images: [],
    audios: [],
    reports: [],
    reportsError: '',
    local: [],
    formOpen: false,
    form: emptyForm(),
    formError: '',
    busy: false,
    maxPhotos: MAX_ATTACHMENTS,
  },
  lifetimes: {
    attached() {
      priv(this).waiting = {}
      priv(this).unsubscribe = getOutbox().subscribe(() => this.refreshLocal())
    },
    detached() {
      if (priv(this).unsubscribe) priv(this).unsubscribe()
      if (priv(this).audio) priv(this).audio.destroy()
    },
  },
  methods: {
    onLoad(o) {
      this.setData({id: Number((o || {}).id) || 0})
      this.refreshLocal()
      return this.load()
    },
    onPullDownRefresh() {
      getOutbox().flush({force: true})
      return this.load().then(() => wx.stopPullDownRefresh())
    },
    onRetry() {
      return this.load()
    },

    load() {
      if (!this.data.id) {
        this.setData({error: '任务不存在'})
        return Promise.resolve()
      }
      this.setData({loading: true, error: ''})
      return Promise.all([this.loadTask(), this.loadReports()]).then(() => this.setData({loading: false}))
    },

    /** `quiet`: a reload after a report arrived; a failure then keeps what is shown. */
    loadTask(quiet) {
      const c = getClient()
      return c.get('/api/v1/tasks/' + this.data.id).then(t => {
        const atts = t.attachments || []
        this.setData({
          task: taskView(t, Date.now()),
          images: atts.filter(a => a.kind === 'image').map(a => c.config.baseURL + a.url),
          audios: atts.filter(a => a.kind === 'audio').map((a, i) => ({id: a.id, name: a.name || '录音' + (i + 1), url: c.config.baseURL + a.url})),
        })
      }, e => {
        if (quiet && this.data.task) return
        this.setData({error: e.message, task: null})
      })
    },

    loadReports() {
      const c = getClient()
      return c.get('/api/v1/tasks/' + this.data.id + '/reports', {limit: 50}).then(r => {
        this.setData({reportsError: '', reports: r.items.map(x => reportView(x, c.config.baseURL))})
      }, e => this.setData({reportsError: '我的反馈暂时无法加载:' + e.message}))
    },

    onRetryReports() {
      return this.loadReports()
    },

    /** Reports of this task still on the phone; one that just reached the server reloads the page. */
    refreshLocal() {
      const id = this.data.id
      const mine = getOutbox().list().filter(it => it.kind === TASK_REPORT && it.task_id === id)
      const waiting = priv(this).waiting
      let arrived = false
      mine.forEach(it => {
        if (it.state !== 'submitted') waiting[it.client_id] = true
        else if (waiting[it.client_id]) {
          delete waiting[it.client_id]
          arrived = true
        }
      })
      this.setData({local: mine.filter(it => it.state !== 'submitted').map(localView)})
      if (arrived && id) {
        wx.showToast({title: '反馈已送达', icon: 'success'})
        return Promise.all([this.loadTask(true), this.loadReports()])
      }
      return Promise.resolve()
    },

    // ---- the report form

    onOpenReport() {
      // From the tap itself (WeChat requires a user gesture): be told of the next task assigned.
      requestSubscribe(['task_assigned'])
      this.setData({formOpen: true, form: emptyForm(), formError: ''})
    },
    onCancelReport() {
      this.setData({formOpen: false, form: emptyForm(), formError: ''})
    },
    onText(e) {
      const v = typeof e.detail === 'object' && e.detail !== null ? e.detail.value : e.detail
      this.setData({'form.text': v || '', formError: ''})
    },
    onChooseDone(e) {
      this.setData({'form.done': e.currentTarget.dataset.done === 'yes'})
    },
    onAddPhoto() {
      const room = MAX_ATTACHMENTS - this.data.form.photos.length
      if (room <= 0) return Promise.resolve()
      return choosePhotos(room).then(files => {
        if (files.length) this.setData({'form.photos': this.data.form.photos.concat(files).slice(0, MAX_ATTACHMENTS)})
      })
    },
    onRemovePhoto(e) {
      const photos = this.data.form.photos.slice()
      photos.splice(Number(e.currentTarget.dataset.index), 1)
      this.setData({'form.photos': photos})
    },

    onSubmitReport() {
      if (this.data.busy) return Promise.resolve()
      const f = this.data.form
      const text = (f.text || '').trim()
      if (!text) {
        this.setData({formError: '请填写进展情况'})
        return Promise.resolve()
      }
      if (Array.from(text).length > MAX_TEXT) {
        this.setData({formError: '进展情况最多' + MAX_TEXT + '个字'})
        return Promise.resolve()
      }
      const go = () => this.saveReport(text, f)
      if (!f.done || (this.data.task && this.data.task.done)) return go()
      // Completion cannot be taken back: ask once.
      return new Promise(resolve => {
        wx.showModal({
          title: '确认任务已完成?',
          content: '报告完成后,任务状态变为“已完成”,之后的反馈作为补充。',
          confirmText: '已完成',
          success: r => resolve(r.confirm ? go() : undefined),
          fail: () => resolve(),
        })
      })
    },

    saveReport(text, f) {
      this.setData({busy: true, formError: ''})
      try {
        getOutbox().submit({
          kind: TASK_REPORT,
          client_id: f.editingId || undefined,
          task_id: this.data.id,
          task_title: this.data.task ? this.data.task.title : '',
          record: {text, done: !!f.done},
          attachments: f.photos.map(p => ({path: p.path, type: 'image', size: p.size || 0, upload_id: p.upload_id, client_id: p.client_id})),
        })
      } catch (e) {
        this.setData({busy: false, formError: e.message})
        return
      }
      this.setData({busy: false, formOpen: false, form: emptyForm()})
      wx.showToast({title: '已保存,有网络时自动上传', icon: 'none', duration: 2500})
    },

    // ---- reports still on the phone

    onRetryLocal(e) {
      const id = e.currentTarget.dataset.id
      const it = getOutbox().get(id)
      if (it && it.state === 'failed') getOutbox().retry(id)
      else getOutbox().flush({force: true})
    },
    onEditLocal(e) {
      const it = getOutbox().get(e.currentTarget.dataset.id)
      if (!it) return
      this.setData({formOpen: true, formError: it.error ? it.error.message : '', form: {
        text: it.record.text, done: !!it.record.done, editingId: it.client_id,
        photos: it.attachments.map(a => ({path: a.path, type: 'image', size: a.size, upload_id: a.upload_id, client_id: a.client_id}))}})
    },
    onDeleteLocal(e) {
      const id = e.currentTarget.dataset.id
      return new Promise(resolve => {
        wx.showModal({
          title: '删除这条反馈?',
          content: '它还没有送达,删除后无法恢复。',
          confirmText: '删除',
          confirmColor: '#ee0a24',
          success: r => {
            if (r.confirm) getOutbox().remove(id)
            resolve()
          },
          fail: () => resolve(),
        })
      })
    },

    // ---- attachments

    onPreview(e) {
      const {src, list} = e.currentTarget.dataset
      wx.previewImage({urls: list && list.length ? list : [src], current: src})
    },
    onPlay(e) {
      if (!priv(this).audio) priv(this).audio = wx.createInnerAudioContext()
      const audio = priv(this).audio
      audio.stop()
      audio.src = e.currentTarget.dataset.url
      audio.play()
    },
  },
})

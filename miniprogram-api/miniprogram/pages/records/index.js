// My records: what is still on the phone (draft, queued, sending, failed) above what the server
// holds (submitted, or returned by staff with their note), with staff feedback. Task reports
// waiting in the outbox are listed with them (the home page's "N条等待上传" counts them too);
// once sent they are shown on their task.
const {priv} = require('../../utils/priv')
const {getOutbox, TASK_REPORT} = require('../../outbox/outbox')
const {KINDS, KIND_ORDER, formatTime, toBeijingISO} = require('../../utils/records')
const {pagedList, appendNew} = require('../../utils/paged-list')

/** Staff feedback an instructor should see on a record. */
function feedbackOf(v) {
  if (v.kind === 'sentiment' && v.sentiment) {
    if (v.sentiment.answer) return '答复:' + v.sentiment.answer
    if (v.sentiment.forwarded_to) return '已转达' + v.sentiment.forwarded_to
  }
  if (v.kind === 'tip' && v.tip && v.tip.escalated_to_name) return '已上报' + v.tip.escalated_to_name
  return ''
}

function serverItem(v) {
  return {
    id: v.id, kind: v.kind, kind_name: v.kind_name || (KINDS[v.kind] ? KINDS[v.kind].label : v.kind), title: v.title,
    time: formatTime(v.occurred_at), state: v.status === 'returned' ? 'returned' : 'submitted',
    status: v.status, status_name: v.status_name, return_note: v.return_note || '', editable: !!v.editable,
    feedback: feedbackOf(v),
  }
}

Component({
  behaviors: [pagedList({path: '/api/v1/records', query: {limit: 20}})],
  data: {
    kinds: KIND_ORDER.map(k => KINDS[k]),
    local: [],
    pending: 0,
  },
  lifetimes: {
    attached() {
      priv(this).unsubscribe = getOutbox().subscribe(() => this.refreshLocal())
    },
    detached() {
      if (priv(this).unsubscribe) priv(this).unsubscribe()
    },
  },
  methods: {
    onLoad() {
      this.refreshLocal()
      return this.load()
    },
    onShow() {
      this.refreshLocal()
    },
    /** The phone's records are sent too (at once, whatever the back-off says), then the list reloads. */
    onPullDownRefresh() {
      getOutbox().flush({force: true})
      return this.load().then(() => wx.stopPullDownRefresh())
    },

    refreshLocal() {
      const serverIds = {}
      this.data.items.forEach(i => { serverIds[i.kind + i.id] = true })
      const local = getOutbox().list()
        .filter(it => (it.kind === TASK_REPORT
          ? it.state !== 'submitted'
          : it.state !== 'submitted' || (it.server_id && !serverIds[it.kind + it.server_id] && it.mode === 'create')))
        .map(it => Object.assign(it, it.kind === TASK_REPORT
          ? {title: '任务:' + (it.task_title || ''), time: formatTime(toBeijingISO(new Date(it.created_at)))}
          : {title: it.record.title, time: formatTime(it.record.occurred_at)}))
      // A record whose text is on the server while its photos still go up is shown once: as the
      // phone's card, which has its progress (照片 n/m) and its failed photos; the server's card
      // of it comes back when the phone's leaves.
      const onPhone = {}
      local.forEach(it => { if (it.kind !== TASK_REPORT && it.server_id) onPhone[it.kind + it.server_id] = true })
      const items = this.data.items
      const shadowChanged = items.some(i => !!i.shadowed !== !!onPhone[i.kind + i.id])
      items.forEach(i => { i.shadowed = !!onPhone[i.kind + i.id] })
      const data = {local, pending: local.filter(i => i.state === 'queued').length}
      if (shadowChanged) data.items = items
      this.setData(data)
    },

    /**
     * Server records are told apart by kind and id (each kind numbers its own); a record sent from
     * this phone leaves the local list once the server's list shows it (refreshLocal).
     */
    showPage(list, first) {
      const items = list.map(serverItem)
      this.setData(Object.assign({items: first ? items : appendNew(this.data.items, items, i => i.kind + i.id)}, first))
      this.refreshLocal()
    },
    loadError(e) {
      return e.message + '。手机上未上传的记录不受影响。'
    },
    /** The list's retry: onRetry is the retry of a record on the phone (the outbox's). */
    onRetryLoad() {
      return this.load()
    },

    onNew(e) {
      wx.navigateTo({url: '/pages/record-form/index?kind=' + e.currentTarget.dataset.kind})
    },
    onSendNow() {
      return getOutbox().flush({force: true})
    },
    onRetry(e) {
      getOutbox().retry(e.currentTarget.dataset.id)
    },
    onEditLocal(e) {
      const {id, kind, task} = e.currentTarget.dataset
      if (kind === TASK_REPORT) {
        wx.navigateTo({url: '/pages/task-detail/index?id=' + task})
        return
      }
      wx.navigateTo({url: '/pages/record-form/index?kind=' + kind + '&client_id=' + id})
    },
    onDelete(e) {
      const id = e.currentTarget.dataset.id
      return new Promise(resolve => {
        wx.showModal({
          title: '删除这条记录?',
          content: '删除后无法恢复。',
          confirmText: '删除',
          confirmColor: '#ee0a24',
          success: r => {
            if (r.confirm) getOutbox().remove(id)
            resolve()
          },
        })
      })
    },
    onOpen(e) {
      const it = this.data.items[Number(e.currentTarget.dataset.index)]
      wx.navigateTo({url: '/pages/record-detail/index?kind=' + it.kind + '&id=' + it.id})
    },
    onResubmit(e) {
      const it = this.data.items[Number(e.currentTarget.dataset.index)]
      wx.navigateTo({url: '/pages/record-form/index?kind=' + it.kind + '&server_id=' + it.id})
    },
  },
})

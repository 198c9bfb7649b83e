// My tasks (交办任务): the tasks assigned to me (GET /api/v1/tasks, with my own state `mine`),
// those not done first with the nearest due on top, overdue ones marked; reports still on the
// phone (the outbox) are counted on their task. A card opens the task and its report form.
const {priv} = require('../../utils/priv')
const {getClient} = require('../../api/client')
const {getOutbox, TASK_REPORT} = require('../../outbox/outbox')
const {taskView, sortTasks} = require('../../utils/tasks')
const {PAGED_DATA, restartPaging, loadNextPage, appendNew} = require('../../utils/paged-list')

const PAGE = 50

/** Reports of each task that are not on the server yet: {taskId: {waiting, failed}}. */
function pendingByTask() {
  const out = {}
  getOutbox().list().forEach(it => {
    if (it.kind !== TASK_REPORT || it.state === 'submitted') return
    const p = out[it.task_id] || (out[it.task_id] = {waiting: 0, failed: 0})
    if (it.state === 'failed') p.failed++
    else p.waiting++
  })
  return out
}

Component({
  data: Object.assign({loading: false, error: '', items: [], open: 0, overdue: 0}, PAGED_DATA),
  lifetimes: {
    attached() {
      priv(this).raw = []
      priv(this).unsubscribe = getOutbox().subscribe(() => this.show())
    },
    detached() {
      if (priv(this).unsubscribe) priv(this).unsubscribe()
    },
  },
  methods: {
    onLoad() {
      return this.load()
    },
    onShow() {
      // back from a task: its state may have changed
      if (priv(this).loaded) return this.load()
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },
    onRetry() {
      return this.load()
    },
    load() {
      restartPaging(this)
      this.setData({loading: true, error: ''})
      return getClient().get('/api/v1/tasks', {limit: PAGE}).then(r => {
        priv(this).raw = r.items
        priv(this).loaded = true
        this.setData({loading: false, cursor: r.next_cursor})
        this.show()
      }, e => this.setData({loading: false, error: e.message}))
    },
    onReachBottom() {
      return loadNextPage(this, '/api/v1/tasks', {limit: PAGE}, more => {
        priv(this).raw = appendNew(priv(this).raw, more)
        this.show()
      })
    },
    /** The loaded tasks in their order, with the reports waiting on the phone. */
    show() {
      const now = Date.now()
      const pending = pendingByTask()
      const items = sortTasks((priv(this).raw || []).map(t => taskView(t, now))).map(v => Object.assign(v, {
        waiting: (pending[v.id] || {}).waiting || 0, failed: (pending[v.id] || {}).failed || 0}))
      const open = items.filter(v => !v.done)
      this.setData({items, open: open.length, overdue: open.filter(v => v.overdue).length})
    },
    onOpen(e) {
      wx.navigateTo({url: '/pages/task-detail/index?id=' + e.currentTarget.dataset.id})
    },
  },
})

// My tasks (交办任务): the tasks assigned to me (GET /api/v1/tasks, with my own state `mine`),
// those not done first with the nearest due on top, overdue ones marked; reports still on the
// phone (the outbox) are counted on their task. A card opens the task and its report form.
const {priv} = require('../../utils/priv')
const {getOutbox, TASK_REPORT} = require('../../outbox/outbox')
const {taskView, sortTasks} = require('../../utils/tasks')
const {pagedList, appendNew} = require('../../utils/paged-list')

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
  behaviors: [pagedList({path: '/api/v1/tasks', query: {limit: 50}})],
  data: {open: 0, overdue: 0},
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
    onShow() {
      // back from a task: its state may have changed
      if (priv(this).loaded) return this.load()
    },
    /**
     * The server's tasks are kept as they came (priv.raw): the page sorts all of them and counts
     * the reports waiting on the phone each time either changes.
     */
    showPage(list, first) {
      priv(this).raw = first ? list : appendNew(priv(this).raw, list)
      if (first) priv(this).loaded = true
      this.show(first)
    },
    /**
     * The loaded tasks in their order, with the reports waiting on the phone.
     * @param {Record<string, any>} [extra] set with them (the end of the first page's loading)
     */
    show(extra) {
      const now = Date.now()
      const pending = pendingByTask()
      const items = sortTasks((priv(this).raw || []).map(t => taskView(t, now))).map(v => Object.assign(v, {
        waiting: (pending[v.id] || {}).waiting || 0, failed: (pending[v.id] || {}).failed || 0}))
      const open = items.filter(v => !v.done)
      this.setData(Object.assign({items, open: open.length, overdue: open.filter(v => v.overdue).length}, extra))
    },
    onOpen(e) {
      wx.navigateTo({url: '/pages/task-detail/index?id=' + e.currentTarget.dataset.id})
    },
  },
})

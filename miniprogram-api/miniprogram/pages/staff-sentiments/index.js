// Staff: sentiment reports to forward to a department and answer (the instructor sees the
// answer), then close. The latest 50 open ones at first, older ones by `next_cursor` at the bottom
// of the page; the server leaves the closed, withdrawn and returned ones out of every page.
const {getClient} = require('../../api/client')
const {formatTime} = require('../../utils/records')
const {pagedList} = require('../../utils/paged-list')

/**
 * The statuses of reports still to be dealt with: the server lists only these, so no page comes
 * back empty of what the page shows.
 */
const OPEN_STATUSES = ['open', 'forwarded', 'answered']

/** Reports still to be dealt with, as the page shows them. */
function stillOpen(list) {
  return list.filter(v => v.status !== 'closed' && v.status !== 'withdrawn' && v.status !== 'returned').map(view)
}

function view(v) {
  const s = v.sentiment || {}
  return {id: v.id, title: v.title, status: v.status, status_name: v.status_name, unit_name: v.unit_name, author_name: v.author_name,
    time: formatTime(v.occurred_at), category_name: s.category_name || '', urgency: s.urgency, urgency_name: s.urgency_name || '',
    content: s.content || '', suggestion: s.suggestion || '', forwarded_to: s.forwarded_to || '', answer: s.answer || ''}
}

Component({
  behaviors: [pagedList({path: '/api/v1/sentiments', query: {status: OPEN_STATUSES, limit: 50}})],
  data: {inputs: {}, busy: false},
  methods: {
    viewItems(list) {
      return stillOpen(list)
    },
    onInput(e) {
      const {id, key} = e.currentTarget.dataset
      this.setData({['inputs.' + id + '.' + key]: e.detail})
    },
    onAction(e) {
      const {id, action} = e.currentTarget.dataset
      if (this.data.busy) return Promise.resolve()
      const input = this.data.inputs[id] || {}
      let body = {}
      if (action === 'forward') {
        if (!(input.department || '').trim()) {
          wx.showToast({title: '请填写转达部门', icon: 'none'})
          return Promise.resolve()
        }
        body = {department: input.department.trim()}
      } else if (action === 'answer') {
        if (!(input.answer || '').trim()) {
          wx.showToast({title: '请填写答复内容', icon: 'none'})
          return Promise.resolve()
        }
        body = {answer: input.answer.trim()}
      }
      this.setData({busy: true})
      return getClient().post('/api/v1/sentiments/' + id + '/' + action, body).then(v => {
        const items = this.data.items.map(i => (i.id === id ? view(v) : i)).filter(i => i.status !== 'closed')
        this.setData({busy: false, items, ['inputs.' + id]: {}})
        wx.showToast({title: '已' + ({forward: '转达', answer: '答复', close: '办结'}[action]), icon: 'success'})
      }, err => {
        this.setData({busy: false})
        wx.showModal({title: '操作未完成', content: err.fullMessage || err.message, showCancel: false, confirmText: '知道了'})
      })
    },
  },
})

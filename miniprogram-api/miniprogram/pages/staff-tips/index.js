// County staff: the tip inbox. Unacknowledged tips first (oldest deadline first), then the ones
// being handled; acknowledge / handle / resolve / escalate with an optional note. The on-duty
// switch decides who gets new-tip alerts (PUT /api/v1/me/duty {on_duty}); its state is the
// server's (GET /api/v1/me: user.on_duty), so it is right on every phone the staff member uses.
// Turning it on asks for the tip alerts of the staff member's level (new tips; escalated tips for
// city and province staff).
//   ?id=<tip id>   opened from a subscribe message (tip_submitted, tip_escalated): that tip comes
//                  first, marked, whatever its status; fetched (GET /api/v1/tips/{id}) when it is
//                  not among the tips listed.
// Older tips: the list of the open tips (the latest 50 at first) goes on by `next_cursor` at the
// bottom of the page; the unacknowledged ones stay first, a tip already shown is not shown again.
const {getClient} = require('../../api/client')
const {formatTime} = require('../../utils/records')
const {requestSubscribe, staffTipTemplates} = require('../../utils/subscribe')
const {pagedList, appendNew} = require('../../utils/paged-list')

/**
 * The tips still to deal with (not resolved, returned or withdrawn), which page on at the bottom:
 * the server lists only these (GET /api/v1/tips?status=…&status=…), so a page is never empty of
 * what the inbox shows however many closed tips lie between the open ones.
 */
const OPEN_STATUSES = ['submitted', 'acknowledged', 'handling', 'escalated']
const ALL_TIPS = {path: '/api/v1/tips', query: {status: OPEN_STATUSES, limit: 50}}

// What each status allows (the server's tip workflow).
const ACTIONS = {
  submitted: [{name: 'acknowledge', label: '签收', type: 'primary'}, {name: 'escalate', label: '上报', type: 'danger'}],
  acknowledged: [{name: 'handle', label: '开始处置', type: 'primary'}, {name: 'resolve', label: '已化解', type: 'primary'}, {name: 'escalate', label: '上报', type: 'danger'}],
  handling: [{name: 'resolve', label: '已化解', type: 'primary'}, {name: 'escalate', label: '上报', type: 'danger'}],
  escalated: [{name: 'acknowledge', label: '签收', type: 'primary'}, {name: 'handle', label: '开始处置', type: 'primary'}, {name: 'resolve', label: '已化解', type: 'primary'}],
}
const DONE_MESSAGES = {acknowledge: '已签收', handle: '已开始处置', resolve: '已标记为化解', escalate: '已上报'}

function view(v) {
  const t = v.tip || {}
  return {
    id: v.id, title: v.title, status: v.status, status_name: v.status_name, level: t.level, level_name: t.level_name || '',
    unit_name: v.unit_name, author_name: v.author_name, time: formatTime(v.occurred_at),
    deadline: v.status === 'submitted' && t.ack_deadline ? formatTime(t.ack_deadline) : '',
    ack_deadline: t.ack_deadline || '', description: t.description || '',
    actions: t.duplicate_of ? [] : (ACTIONS[v.status] || []),
  }
}

/** Statuses that leave the inbox (a tip opened from a message is shown whatever its status). */
const CLOSED = ['resolved', 'returned', 'withdrawn']

/** The tip opened from a message first; then unacknowledged, by deadline; then the rest, newest first. */
function order(items, focusId) {
  const focus = items.filter(i => i.id === focusId)
  const others = items.filter(i => i.id !== focusId)
  const unack = others.filter(i => i.status === 'submitted').sort((a, b) => (a.ack_deadline < b.ack_deadline ? -1 : a.ack_deadline > b.ack_deadline ? 1 : a.id - b.id))
  const rest = others.filter(i => i.status !== 'submitted').sort((a, b) => b.id - a.id)
  return focus.concat(unack, rest)
}

Component({
  behaviors: [pagedList(ALL_TIPS)],
  data: {
    notes: {},
    busyId: 0,
    busyAction: '',
    onDuty: false,
    dutyBusy: false,
    focusId: 0,
  },
  methods: {
    onLoad(options) {
      const c = getClient()
      const user = c.user() || {}
      this.setData({onDuty: !!user.on_duty, focusId: Number((options || {}).id) || 0})
      return Promise.all([this.load(), this.loadDuty()])
    },

    /** The duty state as the server has it (it may have been changed on another phone). */
    loadDuty() {
      return getClient().me().then(me => {
        if (!this.data.dutyBusy) this.setData({onDuty: !!me.user.on_duty})
      }, () => {
        // offline: the state last seen stays shown
      })
    },

    /**
     * Every unacknowledged tip (however old) with the first page of all tips, whose cursor goes
     * on; and the tip of the message when neither holds it.
     */
    firstPage() {
      const c = getClient()
      const focusId = this.data.focusId
      return Promise.all([
        c.get(ALL_TIPS.path, {status: 'submitted', limit: 100}),
        c.get(ALL_TIPS.path, ALL_TIPS.query),
      ]).then(([unack, recent]) => {
        // a tip in both lists once, as the unacknowledged list has it
        const items = appendNew([], unack.items.concat(recent.items))
        const page = {items, next_cursor: recent.next_cursor}
        if (!focusId || items.some(v => v.id === focusId)) return page
        // The tip of the message is older than the lists: fetch it alone.
        return c.get('/api/v1/tips/' + focusId).then(v => ({items: items.concat(v), next_cursor: page.next_cursor}), e => {
          wx.showToast({title: '消息中的线索无法打开:' + e.message, icon: 'none', duration: 3000})
          return page
        })
      })
    },

    /** Whether a tip of the lists belongs in the inbox (the one opened from a message always does). */
    shown(v) {
      return CLOSED.indexOf(v.status) < 0 || v.id === this.data.focusId
    },

    /** The tips of the inbox in its order; older ones join those shown, none twice. */
    showPage(list, first) {
      const fresh = list.filter(v => this.shown(v)).map(view)
      const focusId = this.data.focusId
      this.setData(Object.assign({items: order(first ? fresh : appendNew(this.data.items, fresh), focusId)}, first))
      if (first && focusId && fresh.some(i => i.id === focusId)) this.scrollToFocus()
    },

    /** Brings the tip opened from a message into view (it is first, under the duty switch). */
    scrollToFocus() {
      if (wx.pageScrollTo) wx.pageScrollTo({selector: '#tip-' + this.data.focusId, duration: 300})
    },

    onNote(e) {
      this.setData({['notes.' + e.currentTarget.dataset.id]: e.detail})
    },

    onAction(e) {
      const {id, action} = e.currentTarget.dataset
      if (this.data.busyId) return Promise.resolve()
      const note = (this.data.notes[id] || '').trim()
      this.setData({busyId: id, busyAction: action})
      return getClient().post('/api/v1/tips/' + id + '/' + action, note ? {note} : {}).then(v => {
        const items = this.data.items.filter(i => i.id !== id)
        if (v.status !== 'resolved') items.push(view(v))
        this.setData({busyId: 0, busyAction: '', items: order(items, this.data.focusId), ['notes.' + id]: ''})
        wx.showToast({title: DONE_MESSAGES[action] || '已完成', icon: 'success'})
      }, err => {
        this.setData({busyId: 0, busyAction: ''})
        wx.showModal({title: '操作未完成', content: err.fullMessage || err.message, showCancel: false, confirmText: '知道了'})
      })
    },

    onDutyChange(e) {
      const on = !!e.detail
      // From the tap itself: WeChat only shows the subscribe dialog for a user gesture.
      if (on) requestSubscribe(staffTipTemplates(getClient().user()))
      this.setData({dutyBusy: true})
      const c = getClient()
      return c.put('/api/v1/me/duty', {on_duty: on}).then(r => {
        const v = r.on_duty
        c.updateUser({on_duty: v})
        this.setData({dutyBusy: false, onDuty: v})
        wx.showToast({title: v ? '已开始值班' : '已结束值班', icon: 'none'})
      }, err => {
        // the switch goes back to what the server has
        this.setData({dutyBusy: false, onDuty: !on})
        wx.showToast({title: err.message, icon: 'none'})
      })
    },
  },
})

// Home: who I am and my unit's key task, this month's counts, what waits in the outbox, my tasks
// not done (how many, the nearest due), this year's training hours, unread bulletins, the next
// meeting. Staff see their workbench instead.
const {priv} = require('../../utils/priv')
const {getClient} = require('../../api/client')
const {getOutbox} = require('../../outbox/outbox')
const {KINDS, KIND_ORDER, formatTime} = require('../../utils/records')
const {isStaff, goLogin} = require('../../utils/nav')
const {summarize} = require('../../utils/tasks')

const ICONS = {visit: 'friends-o', sentiment: 'comment-o', tip: 'warning-o', mediation: 'balance-o'}

/** The meeting to show: one going on now, else the soonest to come (the list is newest first). */
function nextMeeting(items) {
  const live = (items || []).filter(m => m.status === 'ongoing' || m.status === 'upcoming')
  live.sort((a, b) => (a.status !== b.status ? (a.status === 'ongoing' ? -1 : 1) : Date.parse(a.starts_at) - Date.parse(b.starts_at)))
  const m = live[0]
  if (!m) return null
  const mine = m.mine || {}
  return {id: m.id, title: m.title, when: formatTime(m.starts_at), place: m.place || '', status_name: m.status_name,
    note: mine.checked_in_at ? '已签到' : (m.checkin_open ? '可以签到了' : (mine.rsvp && mine.rsvp !== 'none' ? '我的回复:' + mine.rsvp_name : '请回复是否参加'))}
}

/** The tasks cell: how many not done and the nearest due (or how overdue it is). */
function tasksCell(items) {
  const s = summarize(items, Date.now())
  const next = s.next
  return {
    open: s.open,
    overdue: s.overdue,
    value: s.open ? s.open + '项待完成' : '暂无待完成',
    label: next ? (next.overdue ? '已逾期:' : '最近截止:') + next.title + '(' + next.due + ')' : '',
    nextOverdue: !!(next && next.overdue),
  }
}

/** A part of the home page that may not exist on this server yet: its failure hides it only. */
function optional(p) {
  return p.then(v => v, () => null)
}

Component({
  data: {
    loading: true,
    error: '',
    user: null,
    staff: false,
    unit: null,
    kinds: KIND_ORDER.map(k => Object.assign({icon: ICONS[k]}, KINDS[k])),
    counts: KIND_ORDER.map(k => ({name: k, label: KINDS[k].short, n: 0})),
    summaryError: '',
    unread: -1,
    meeting: null,
    tasks: null,
    training: null,
    outbox: {queued: 0, failed: 0},
    onDuty: false,
  },
  lifetimes: {
    attached() {
      priv(this).unsubscribe = getOutbox().subscribe(() => this.setData({outbox: getOutbox().counts()}))
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
      this.setData({outbox: getOutbox().counts()})
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },
    onRetry() {
      return this.load()
    },

    load() {
      const c = getClient()
      if (!c.isLoggedIn()) {
        goLogin()
        return Promise.resolve()
      }
      this.setData({loading: true, error: '', outbox: getOutbox().counts()})
      return c.me().then(me => {
        const staff = isStaff(me.user)
        this.setData({loading: false, user: me.user, staff, unit: me.unit || null, onDuty: !!me.user.on_duty})
        const jobs = [
          optional(c.get('/api/v1/meetings', {limit: 20})).then(r => this.setData({meeting: nextMeeting(r ? r.items : [])})),
        ]
        if (!staff) {
          // instructors only: staff get 403 here
          jobs.push(optional(c.get('/api/v1/bulletins/unread-count')).then(r => this.setData({unread: r ? r.unread : -1})))
          // newest first; the first 100 hold every task an instructor still has open in practice
          jobs.push(optional(c.get('/api/v1/tasks', {limit: 100})).then(r => this.setData({tasks: r ? tasksCell(r.items) : null})))
          jobs.push(optional(c.get('/api/v1/me/training')).then(r => this.setData({training: r
            ? {year: r.year, hours: String(Math.round(r.hours * 10) / 10), sessions: r.sessions} : null})))
          jobs.push(c.get('/api/v1/me/summary').then(s => {
            const month = (s && s.month && s.month.counts) || {}
            this.setData({summaryError: '', counts: KIND_ORDER.map(k => ({name: k, label: KINDS[k].short, n: month[k] || 0}))})
          }, e => this.setData({summaryError: '本月统计暂时无法加载:' + e.message})))
        }
        return Promise.all(jobs)
      }, e => {
        if (e.code === 'session_expired') {
          goLogin('登录已失效,请重新登录')
          return
        }
        this.setData({loading: false, error: e.message})
      })
    },

    onNew(e) {
      wx.navigateTo({url: '/pages/record-form/index?kind=' + e.currentTarget.dataset.kind})
    },
    onRecords() {
      wx.navigateTo({url: '/pages/records/index'})
    },
    onMine() {
      wx.navigateTo({url: '/pages/mine/index'})
    },
  },
})

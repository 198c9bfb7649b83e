// My training (培训): the sessions I am enrolled in for a year, with my attendance and the hours
// credited, and the year's totals (GET /api/v1/me/training?year=; the server takes the two years
// before this one up to the next, and counts a session in the year it starts, Beijing time).
// Opened from an enrolment notice or a reminder (?id=), that session is shown first and marked;
// when it is not among the year's (a session of next January, say) it is fetched alone
// (GET /api/v1/training-sessions/{id}).
const {getClient} = require('../../api/client')
const {formatTime, toBeijingISO} = require('../../utils/records')

/** 3.5 → "3.5", 4 → "4" (hours have at most one decimal). */
function hoursText(h) {
  return String(Math.round((Number(h) || 0) * 10) / 10)
}

const STATUS_TYPES = {attended: 'success', absent: 'danger', enrolled: 'primary'}

function sessionView(s, focus) {
  const mine = s.mine || {status: 'enrolled', status_name: '已报名', hours: 0}
  const start = formatTime(s.starts_at)
  const end = formatTime(s.ends_at)
  return {
    id: s.id, title: s.title, topic: s.topic || '', lecturer: s.lecturer || '', organiser: s.region_name || '',
    topics: (s.topic_names || []).join('、'), focus: s.id === focus,
    when: start + ' 至 ' + (end.slice(0, 10) === start.slice(0, 10) ? end.slice(11) : end),
    how: s.method_name + ' · ' + s.mode_name,
    online: s.mode === 'online', place: s.place || '', url: s.url || '',
    hours: hoursText(s.hours),
    status: mine.status, status_name: mine.status_name, status_type: STATUS_TYPES[mine.status] || 'default',
    credited: mine.status === 'attended' ? hoursText(mine.hours) : '',
  }
}

function thisYear() {
  return Number(toBeijingISO(new Date()).slice(0, 4))
}

Component({
  data: {loading: false, error: '', year: 0, years: [], hours: '0', sessions: 0, enrolled: 0, items: [], focus: 0},
  methods: {
    onLoad(o) {
      const now = thisYear()
      const asked = Number((o || {}).year)
      this.setData({years: [now - 2, now - 1, now], year: asked >= now - 2 && asked <= now ? asked : now,
        focus: Number((o || {}).id) || 0})
      return this.load()
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },
    onRetry() {
      return this.load()
    },
    onYear(e) {
      const year = Number(e.currentTarget.dataset.year)
      if (year === this.data.year && !this.data.error) return Promise.resolve()
      this.setData({year, items: []})
      return this.load()
    },
    load() {
      const year = this.data.year
      this.setData({loading: true, error: ''})
      const focus = this.data.focus
      return getClient().get('/api/v1/me/training', {year}).then(r => this.withFocus(r.items, focus).then(list => {
        if (year !== this.data.year) return // another year was chosen meanwhile
        this.setData({loading: false, hours: hoursText(r.hours), sessions: r.sessions, enrolled: r.items.length,
          items: list.map(s => sessionView(s, focus))})
      }), e => {
        if (year === this.data.year) this.setData({loading: false, error: e.message})
      })
    },
    /** The sessions with the one of the message first, fetched when the year does not hold it. */
    withFocus(items, focus) {
      if (!focus) return Promise.resolve(items)
      const i = items.findIndex(s => s.id === focus)
      if (i >= 0) return Promise.resolve([items[i]].concat(items.filter((_, j) => j !== i)))
      return getClient().get('/api/v1/training-sessions/' + focus).then(s => [s].concat(items), e => {
        wx.showToast({title: e.message, icon: 'none'})
        return items
      })
    },
    onCopyLink(e) {
      wx.setClipboardData({data: e.currentTarget.dataset.url})
    },
  },
})

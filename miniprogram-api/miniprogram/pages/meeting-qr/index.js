// Staff: the rotating check-in code of a meeting and who has checked in.
// GET /api/v1/meetings/{id}/checkin-token answers {token, qr_payload, expires_at, refresh_at}: the
// QR code shows qr_payload and is fetched again at refresh_at (the code changes every 30 s and is
// valid until expires_at, so a forwarded screenshot soon stops working).
// GET /api/v1/meetings/{id}/attendance gives the counts and the list, refreshed with the code.
const {priv} = require('../../utils/priv')
const {getClient} = require('../../api/client')
const {formatTime} = require('../../utils/records')
const qr = require('../../utils/qr')

const MIN_WAIT = 5000
const MAX_WAIT = 30000

/**
 * How long to show this code before fetching the next one (ms): until refresh_at, kept between 5
 * and 30 s. A code is valid until expires_at, at least 30 s after it was handed out, so even a
 * phone whose clock is far off never shows an expired code.
 */
function refreshDelay(r) {
  const wait = Date.parse(r.refresh_at) - Date.now()
  if (isNaN(wait)) return MAX_WAIT
  return Math.max(MIN_WAIT, Math.min(MAX_WAIT, wait))
}

/** How someone checked in; a location check-in with its distance from the venue. */
function checkinMethod(i) {
  if (i.checkin_method !== 'location') return '扫码'
  return typeof i.checkin_distance_m === 'number' ? '定位 · 距会场' + i.checkin_distance_m + '米' : '定位'
}

function attendanceView(a) {
  return {
    invited: a.invited, checked_in: a.checked_in, rate: Math.round((a.attendance_rate || 0) * 100) + '%',
    yes: a.rsvp.yes, no: a.rsvp.no, maybe: a.rsvp.maybe, none: a.rsvp.none,
    people: a.items.filter(i => i.checked_in_at).map(i => ({id: i.instructor_id, name: i.name, unit_name: i.unit_name,
      time: formatTime(i.checked_in_at).slice(11), method: checkinMethod(i), doubt: i.checkin_doubt || ''})),
  }
}

Component({
  data: {loading: false, error: '', qrText: '', title: '', qrReady: false, canvasPx: 280, id: 0, attendance: null, attendanceError: ''},
  lifetimes: {
    detached() {
      this.stop()
    },
  },
  methods: {
    onLoad(o) {
      let px = 280
      try {
        px = Math.min(320, Math.floor(wx.getWindowInfo().windowWidth * 0.8))
      } catch (e) {
        px = 280
      }
      priv(this).gone = false
      this.setData({id: Number(o.id), title: o.title ? decodeURIComponent(o.title) : '', canvasPx: px})
      return this.load()
    },
    onShow() {
      // back from the background: the code shown may be stale
      if (priv(this).paused) {
        priv(this).paused = false
        return this.load()
      }
      return Promise.resolve()
    },
    onHide() {
      this.clearTimer()
      priv(this).paused = true
    },
    onUnload() {
      this.stop()
    },
    stop() {
      this.clearTimer()
      priv(this).gone = true
    },
    clearTimer() {
      if (priv(this).timer) clearTimeout(priv(this).timer)
      priv(this).timer = null
    },
    onRetry() {
      return this.load()
    },
    load() {
      this.clearTimer()
      if (!this.data.qrText) this.setData({loading: true})
      this.setData({error: ''})
      const c = getClient()
      const id = this.data.id
      const token = c.get('/api/v1/meetings/' + id + '/checkin-token').then(r => {
        const m = qr.matrix(r.qr_payload)
        priv(this).matrix = m
        this.setData({loading: false, qrText: r.qr_payload, qrReady: !!m})
        if (m) this.paint()
        this.arm(refreshDelay(r))
      }, e => {
        // 409: the meeting was cancelled or has ended; other errors: show them and retry later
        this.setData({loading: false, error: e.message, qrText: e.status === 409 ? '' : this.data.qrText})
        if (e.retryable) this.arm(MAX_WAIT)
      })
      const attendance = c.get('/api/v1/meetings/' + id + '/attendance').then(a => {
        this.setData({attendance: attendanceView(a), attendanceError: ''})
      }, e => this.setData({attendanceError: '到会情况暂时无法加载:' + e.message}))
      return Promise.all([token, attendance])
    },
    arm(ms) {
      if (priv(this).gone || priv(this).paused) return
      priv(this).timer = setTimeout(() => this.load(), ms)
    },
    paint() {
      const q = wx.createSelectorQuery ? wx.createSelectorQuery().in(this) : null
      if (!q) return
      q.select('#qr').fields({node: true, size: true}).exec(res => {
        const node = res && res[0] && res[0].node
        if (!node || !node.getContext) return // no canvas (simulator)
        const dpr = (wx.getWindowInfo && wx.getWindowInfo().pixelRatio) || 2
        node.width = this.data.canvasPx * dpr
        node.height = this.data.canvasPx * dpr
        qr.draw(node.getContext('2d'), priv(this).matrix, this.data.canvasPx * dpr)
      })
    },
  },
})

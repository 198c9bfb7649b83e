// Meetings (例会). Instructors see the meetings they are invited to (GET /api/v1/meetings, with
// `mine`: my answer and my check-in), answer yes / no / maybe (POST .../rsvp {answer}), and check
// in while check-in is open (`checkin_open`): by scanning the organiser's rotating QR code, whose
// content is shiliu://meetings/{id}/checkin?token=…, or by location when the meeting has the
// venue's coordinates (POST .../checkin {token} or {latitude, longitude}). Both answers return the
// meeting, which replaces the card. Staff see their county's meetings and open the check-in code.
//   ?id=<meeting id>   opened from a subscribe message (meeting_scheduled, _changed, _cancelled,
//                      _reminder): that meeting comes first, marked; fetched (GET
//                      /api/v1/meetings/{id}) when it is not among the meetings listed.
// Minutes (会议纪要): once a meeting has started, "会议纪要" reads the meeting alone (GET
// /api/v1/meetings/{id}, the only answer that carries `minutes`) and shows the county's minutes
// with their photos under the card; a meeting opened from a message shows them at once.
// Older meetings: the list (the latest 20 at first) goes on by `next_cursor` at the bottom of the
// page; the meeting opened from a message stays first and is not shown again further down.
const {getClient} = require('../../api/client')
const {formatTime} = require('../../utils/records')
const {isStaff} = require('../../utils/nav')
const {parseCheckinCode} = require('../../utils/meetings')
const {requestSubscribe} = require('../../utils/subscribe')
const {pagedList, appendNew} = require('../../utils/paged-list')
const {priv} = require('../../utils/priv')

const LIST = {path: '/api/v1/meetings', query: {limit: 20}}

const RSVP_TOASTS = {yes: '已回复参加', no: '已回复不参加', maybe: '已回复待定'}
/** The minutes as the card shows them: the text, the photos to preview, the recordings to play. */
function minutesView(mm) {
  if (!mm) return null
  const base = getClient().config.baseURL
  const atts = mm.attachments || []
  return {
    body: mm.body, updated: formatTime(mm.updated_at),
    images: atts.filter(a => a.kind === 'image').map(a => base + a.url),
    audios: atts.filter(a => a.kind === 'audio').map((a, i) => ({id: a.id, name: a.name || '录音' + (i + 1), url: base + a.url})),
  }
}

function view(m) {
  const mine = m.mine || {rsvp: 'none', rsvp_name: '', checkin_method: ''}
  const live = m.status === 'upcoming' || m.status === 'ongoing'
  const checkedIn = !!mine.checked_in_at
  return {
    id: m.id, title: m.title, when: formatTime(m.starts_at) + ' 至 ' + formatTime(m.ends_at).slice(11), place: m.place || '',
    agenda: m.agenda || '', status: m.status, status_name: m.status_name, cancel_reason: m.cancel_reason || '',
    invitee_count: m.invitee_count, live,
    rsvp: mine.rsvp, rsvp_name: mine.rsvp !== 'none' ? mine.rsvp_name : '',
    checked_in: checkedIn, checkin_time: checkedIn ? formatTime(mine.checked_in_at).slice(11) : '',
    checkin_method_name: mine.checkin_method === 'location' ? '定位签到' : (mine.checkin_method === 'qr' ? '扫码签到' : ''),
    can_rsvp: live && !checkedIn,
    can_checkin: !!m.checkin_open && !checkedIn,
    can_locate: !!m.checkin_open && !checkedIn && !!m.location_checkin,
    held: m.status === 'ongoing' || m.status === 'ended',
    minutes: minutesView(m.minutes),
    no_minutes: false,
  }
}

/**
 * A location check-in: the position and the phone's own accuracy estimate, which staff see with
 * it (a position without one looks typed in).
 */
function locationBody(r) {
  const body = {latitude: r.latitude, longitude: r.longitude}
  if (typeof r.accuracy === 'number' && r.accuracy >= 0) body.accuracy = Math.min(r.accuracy, 100000)
  return body
}

/** The meeting opened from a message first; the others in the server's order. */
function withFocusFirst(items, focusId) {
  return items.filter(i => i.id === focusId).concat(items.filter(i => i.id !== focusId))
}

Component({
  behaviors: [pagedList(LIST)],
  data: {staff: false, busyId: 0, focusId: 0},
  methods: {
    onLoad(options) {
      this.setData({staff: isStaff(getClient().user()), focusId: Number((options || {}).id) || 0})
      return this.load()
    },
    /** The latest meetings, and the one of the message when it is not among them. */
    firstPage() {
      const c = getClient()
      const focusId = this.data.focusId
      return c.get(LIST.path, LIST.query).then(r => {
        const items = r.items || []
        if (!focusId || items.some(m => m.id === focusId)) return r
        // The meeting of the message is not among the latest: fetch it alone.
        return c.get('/api/v1/meetings/' + focusId).then(m => ({items: items.concat(m), next_cursor: r.next_cursor}), e => {
          wx.showToast({title: '消息中的例会无法打开:' + e.message, icon: 'none', duration: 3000})
          return r
        })
      })
    },
    /** Older meetings go under the ones shown; the one opened from a message is not shown twice. */
    showPage(list, first) {
      const items = list.map(view)
      if (!first) return this.setData({items: appendNew(this.data.items, items)})
      const focusId = this.data.focusId
      this.setData(Object.assign({items: withFocusFirst(items, focusId)}, first))
      if (focusId && items.some(i => i.id === focusId) && wx.pageScrollTo) {
        wx.pageScrollTo({selector: '#meeting-' + focusId, duration: 300})
      }
    },
    /** The server's answer (a Meeting) replaces the card. */
    replace(m) {
      this.setData({items: this.data.items.map(i => (i.id === m.id ? view(m) : i))})
    },
    onRsvp(e) {
      const {id, answer} = e.currentTarget.dataset
      if (this.data.busyId) return Promise.resolve()
      // Going (or maybe): ask, from the tap itself as WeChat requires, to be reminded before it
      // starts and told if it changes or is cancelled.
      if (answer === 'yes' || answer === 'maybe') requestSubscribe(['meeting_reminder', 'meeting_changed', 'meeting_cancelled'])
      this.setData({busyId: id})
      return getClient().post('/api/v1/meetings/' + id + '/rsvp', {answer}).then(m => {
        this.setData({busyId: 0})
        this.replace(m)
        wx.showToast({title: RSVP_TOASTS[answer] || '已回复', icon: 'success'})
      }, err => {
        this.setData({busyId: 0})
        wx.showToast({title: err.message, icon: 'none'})
      })
    },
    onScan(e) {
      const id = Number(e.currentTarget.dataset.id)
      return new Promise(resolve => {
        wx.scanCode({
          onlyFromCamera: true,
          scanType: ['qrCode'],
          success: r => {
            const code = parseCheckinCode(r.result)
            if (!code) {
              wx.showModal({title: '签到未成功', content: '这不是例会签到码,请扫描会场大屏或组织者手机上的签到码', showCancel: false, confirmText: '知道了'})
              return resolve()
            }
            if (code.meetingId !== id) {
              wx.showModal({title: '签到未成功', content: '这是另一次例会的签到码,请核对后再扫', showCancel: false, confirmText: '知道了'})
              return resolve()
            }
            resolve(this.checkin(id, {token: code.token}))
          },
          fail: () => resolve(),
        })
      })
    },
    onLocate(e) {
      const id = Number(e.currentTarget.dataset.id)
      return new Promise(resolve => {
        wx.getLocation({
          type: 'gcj02',
          isHighAccuracy: true,
          success: r => resolve(this.checkin(id, locationBody(r))),
          fail: () => {
            wx.showToast({title: '无法获取位置,请使用扫码签到', icon: 'none'})
            resolve()
          },
        })
      })
    },
    checkin(id, body) {
      this.setData({busyId: id})
      return getClient().post('/api/v1/meetings/' + id + '/checkin', body).then(m => {
        this.setData({busyId: 0})
        this.replace(m)
        wx.showToast({title: '签到成功', icon: 'success'})
      }, err => {
        this.setData({busyId: 0})
        wx.showModal({title: '签到未成功', content: err.message, showCancel: false, confirmText: '知道了'})
      })
    },
    /** Reads the meeting alone for its minutes; "not yet" when the county has not written them. */
    onMinutes(e) {
      const id = Number(e.currentTarget.dataset.id)
      if (this.data.busyId) return Promise.resolve()
      this.setData({busyId: id})
      return getClient().get('/api/v1/meetings/' + id).then(m => {
        this.setData({busyId: 0})
        const v = view(m)
        if (!v.minutes) v.no_minutes = true
        this.setData({items: this.data.items.map(i => (i.id === m.id ? v : i))})
      }, err => {
        this.setData({busyId: 0})
        wx.showToast({title: err.message, icon: 'none'})
      })
    },
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
    onShowQr(e) {
      const {id, title} = e.currentTarget.dataset
      wx.navigateTo({url: '/pages/meeting-qr/index?id=' + id + '&title=' + encodeURIComponent(title)})
    },
  },
})

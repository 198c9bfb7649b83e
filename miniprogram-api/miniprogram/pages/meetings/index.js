// Meetings (例会): instructors answer whether they come and check in by scanning the organiser's
// QR code (or by location); staff show the rotating check-in code.
// The meeting routes are being added to the server; until they answer, this page shows an error
// state with a retry button.
const {getClient} = require('../../api/client')
const {formatTime} = require('../../utils/records')
const {isStaff} = require('../../utils/nav')

function view(m) {
  return {id: m.id, title: m.title, when: formatTime(m.starts_at), place: m.place || '', agenda: m.agenda || '',
    rsvp: m.my_rsvp || m.rsvp || '', checked_in: !!(m.checked_in || m.my_checked_in)}
}

Component({
  data: {loading: false, error: '', items: [], staff: false},
  methods: {
    onLoad() {
      this.setData({staff: isStaff(getClient().user())})
      return this.load()
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },
    onRetry() {
      return this.load()
    },
    load() {
      this.setData({loading: true, error: ''})
      return getClient().get('/api/v1/meetings', {limit: 20}).then(r => {
        this.setData({loading: false, items: (r.items || []).map(view)})
      }, e => this.setData({loading: false, error: e.status === 404 ? '例会功能即将开放' : e.message}))
    },
    replace(id, patch) {
      const items = this.data.items.map(i => (i.id === id ? Object.assign({}, i, patch) : i))
      this.setData({items})
    },
    onRsvp(e) {
      const {id, answer} = e.currentTarget.dataset
      return getClient().post('/api/v1/meetings/' + id + '/rsvp', {attending: answer === 'yes'}).then(() => {
        this.replace(id, {rsvp: answer})
        wx.showToast({title: answer === 'yes' ? '已确认参加' : '已请假', icon: 'success'})
      }, err => wx.showToast({title: err.message, icon: 'none'}))
    },
    onScan(e) {
      const id = e.currentTarget.dataset.id
      return new Promise(resolve => {
        wx.scanCode({
          onlyFromCamera: true,
          scanType: ['qrCode'],
          success: r => resolve(this.checkin(id, {token: r.result})),
          fail: () => resolve(),
        })
      })
    },
    onLocate(e) {
      const id = e.currentTarget.dataset.id
      return new Promise(resolve => {
        wx.getLocation({
          type: 'gcj02',
          success: r => resolve(this.checkin(id, {latitude: r.latitude, longitude: r.longitude})),
          fail: () => {
            wx.showToast({title: '无法获取位置,请使用扫码签到', icon: 'none'})
            resolve()
          },
        })
      })
    },
    checkin(id, body) {
      return getClient().post('/api/v1/meetings/' + id + '/checkin', body).then(() => {
        this.replace(id, {checked_in: true})
        wx.showToast({title: '签到成功', icon: 'success'})
      }, err => wx.showModal({title: '签到未成功', content: err.message, showCancel: false, confirmText: '知道了'}))
    },
    onShowQr(e) {
      const {id, title} = e.currentTarget.dataset
      wx.navigateTo({url: '/pages/meeting-qr/index?id=' + id + '&title=' + encodeURIComponent(title)})
    },
  },
})

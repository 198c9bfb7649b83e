// Staff: the rotating check-in code of a meeting, as a QR code (canvas) and as text, fetched
// again before it expires (GET /api/v1/meetings/{id}/checkin-token).
const {priv} = require('../../utils/priv')
const {getClient} = require('../../api/client')
const qr = require('../../utils/qr')

Component({
  data: {loading: false, error: '', token: '', title: '', qrReady: false, canvasPx: 280, expiresText: '', id: 0},
  lifetimes: {
    detached() {
      if (priv(this).timer) clearTimeout(priv(this).timer)
      priv(this).timer = null
      priv(this).gone = true
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
      this.setData({id: Number(o.id), title: o.title ? decodeURIComponent(o.title) : '', canvasPx: px})
      return this.load()
    },
    onUnload() {
      if (priv(this).timer) clearTimeout(priv(this).timer)
      priv(this).gone = true
    },
    onRetry() {
      return this.load()
    },
    load() {
      this.setData({loading: true, error: ''})
      return getClient().get('/api/v1/meetings/' + this.data.id + '/checkin-token').then(r => {
        const m = qr.matrix(r.token)
        priv(this).matrix = m
        const ttl = r.expires_in || 60
        this.setData({loading: false, token: r.token, qrReady: !!m, expiresText: ttl >= 60 ? Math.round(ttl / 60) + '分钟后' : ttl + '秒后'})
        if (m) this.paint()
        // fetch the next one a little before this one runs out
        if (!priv(this).gone) priv(this).timer = setTimeout(() => this.load(), Math.max(5, ttl - 5) * 1000)
      }, e => this.setData({loading: false, error: e.message}))
    },
    paint() {
      const q = wx.createSelectorQuery ? wx.createSelectorQuery().in(this) : null
      if (!q) return
      q.select('#qr').fields({node: true, size: true}).exec(res => {
        const node = res && res[0] && res[0].node
        if (!node || !node.getContext) return // no canvas (simulator): the code is shown as text
        const dpr = (wx.getWindowInfo && wx.getWindowInfo().pixelRatio) || 2
        node.width = this.data.canvasPx * dpr
        node.height = this.data.canvasPx * dpr
        qr.draw(node.getContext('2d'), priv(this).matrix, this.data.canvasPx * dpr)
      })
    },
  },
})

// Bulletins (工作简报): opening one sends its read receipt.
// The bulletin routes are being added to the server; until they answer, the page shows an error
// state with a retry button.
const {getClient} = require('../../api/client')
const {formatTime} = require('../../utils/records')

function view(b) {
  return {id: b.id, title: b.title, content: b.content || b.body || '', issuer: b.issuer_name || b.region_name || '',
    time: formatTime(b.published_at || b.created_at), read: !!(b.read || b.read_at), open: false}
}

Component({
  data: {loading: false, error: '', items: []},
  methods: {
    onLoad() {
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
      return getClient().get('/api/v1/bulletins', {limit: 20}).then(r => {
        this.setData({loading: false, items: (r.items || []).map(view)})
      }, e => this.setData({loading: false, error: e.status === 404 ? '简报功能即将开放' : e.message}))
    },
    onOpen(e) {
      const i = Number(e.currentTarget.dataset.index)
      const b = this.data.items[i]
      this.setData({['items[' + i + '].open']: !b.open})
      if (b.read) return Promise.resolve()
      return getClient().post('/api/v1/bulletins/' + b.id + '/read', {}).then(() => {
        this.setData({['items[' + i + '].read']: true})
      }, () => {
        // the receipt is sent again the next time it is opened
      })
    },
  },
})

// Bulletins (工作简报). The list (GET /api/v1/bulletins) has each bulletin's summary and whether I
// have read it; opening one fetches it whole (GET /api/v1/bulletins/{id}, body and attachments),
// and that request is the read receipt: the server records the first time I open it.
const {getClient} = require('../../api/client')
const {formatTime} = require('../../utils/records')
const {plainText} = require('../../utils/markdown')
const {pagedList} = require('../../utils/paged-list')

function view(b) {
  return {id: b.id, title: b.title, summary: b.summary || '', issuer: b.region_name || '',
    time: formatTime(b.published_at || b.publish_at), read: !!b.read, open: false, loaded: false, loading: false,
    body: '', images: [], error: ''}
}

Component({
  behaviors: [pagedList({path: '/api/v1/bulletins', query: {limit: 20}})],
  methods: {
    viewItems(list) {
      return list.map(view)
    },
    onOpen(e) {
      const i = Number(e.currentTarget.dataset.index)
      const b = this.data.items[i]
      const at = 'items[' + i + ']'
      if (b.open) {
        this.setData({[at + '.open']: false})
        return Promise.resolve()
      }
      this.setData({[at + '.open']: true})
      if (b.loaded || b.loading) return Promise.resolve()
      this.setData({[at + '.loading']: true, [at + '.error']: ''})
      const c = getClient()
      return c.get('/api/v1/bulletins/' + b.id).then(d => {
        const images = (d.attachments || []).filter(a => a.kind === 'image').map(a => c.config.baseURL + a.url)
        // the server recorded the receipt (read_at); the badge on the home page follows
        this.setData({[at + '.loading']: false, [at + '.loaded']: true, [at + '.read']: d.read !== false,
          [at + '.body']: plainText(d.body), [at + '.images']: images})
      }, err => {
        // not read yet: the receipt is recorded the next time it opens
        this.setData({[at + '.loading']: false, [at + '.error']: err.message + ',点标题重试', [at + '.open']: false})
      })
    },
    onPreview(e) {
      const {index, src} = e.currentTarget.dataset
      wx.previewImage({urls: this.data.items[Number(index)].images, current: src})
    },
  },
})

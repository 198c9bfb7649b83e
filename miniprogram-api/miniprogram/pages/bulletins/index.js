// Bulletins (工作简报). The list (GET /api/v1/bulletins) has each bulletin's summary and whether I
// have read it; opening one fetches it whole (GET /api/v1/bulletins/{id}, body and attachments),
// and that request is the read receipt: the server records the first time I open it.
// A corrected bulletin shows "已更正" with the time and the note (and its corrected text); a
// withdrawn one shows "已撤回" with the reason and no body (the server sends none). Opened from the
// notice of a correction or withdrawal (?id=), that bulletin is shown first and opened.
const {getClient} = require('../../api/client')
const {formatTime} = require('../../utils/records')
const {plainText} = require('../../utils/markdown')
const {pagedList} = require('../../utils/paged-list')
const {requestSubscribe} = require('../../utils/subscribe')

function view(b, focus) {
  const withdrawn = b.status === 'withdrawn'
  return {id: b.id, title: b.title, summary: b.summary || '', issuer: b.region_name || '',
    time: formatTime(b.published_at || b.publish_at), read: !!b.read || withdrawn, open: false, loaded: false, loading: false,
    body: '', images: [], error: '', focus: b.id === focus,
    withdrawn, reason: b.withdraw_reason || '', withdrawn_at: formatTime(b.withdrawn_at),
    corrected: !!b.corrected_at && !withdrawn, corrected_at: formatTime(b.corrected_at), note: b.correction_note || ''}
}

Component({
  behaviors: [pagedList({path: '/api/v1/bulletins', query: {limit: 20}})],
  data: {focus: 0},
  methods: {
    onLoad(o) {
      this.setData({focus: Number((o || {}).id) || 0})
      return this.load().then(() => {
        const i = this.data.items.findIndex(b => b.focus && !b.withdrawn)
        if (i >= 0) return this.onOpen({currentTarget: {dataset: {index: i}}}, true)
      })
    },
    /** The first page, with the bulletin of the message first (fetched when not listed). */
    firstPage() {
      const client = getClient()
      return client.get('/api/v1/bulletins', {limit: 20}).then(r => {
        const focus = this.data.focus
        const items = r.items || []
        if (!focus) return r
        const i = items.findIndex(b => b.id === focus)
        if (i >= 0) return {items: [items[i]].concat(items.filter((_, j) => j !== i)), next_cursor: r.next_cursor}
        return client.get('/api/v1/bulletins/' + focus).then(b => ({items: [b].concat(items), next_cursor: r.next_cursor}), e => {
          wx.showToast({title: e.message, icon: 'none'})
          return r
        })
      })
    },
    viewItems(list) {
      return list.map(b => view(b, this.data.focus))
    },
    onOpen(e, auto) {
      const i = Number(e.currentTarget.dataset.index)
      const b = this.data.items[i]
      if (b.withdrawn) return Promise.resolve()
      const at = 'items[' + i + ']'
      if (b.open) {
        this.setData({[at + '.open']: false})
        return Promise.resolve()
      }
      this.setData({[at + '.open']: true})
      if (b.loaded || b.loading) return Promise.resolve()
      // From the tap (WeChat requires a user gesture): be told if what I read is corrected or withdrawn.
      if (!auto) requestSubscribe(['bulletin_corrected', 'bulletin_withdrawn'])
      this.setData({[at + '.loading']: true, [at + '.error']: ''})
      const c = getClient()
      return c.get('/api/v1/bulletins/' + b.id).then(d => {
        const images = (d.attachments || []).filter(a => a.kind === 'image').map(a => c.config.baseURL + a.url)
        // the server recorded the receipt (read_at); the badge on the home page follows
        if (d.status === 'withdrawn') {
          this.setData({[at]: Object.assign(view(d, this.data.focus), {open: false})})
          return
        }
        this.setData({[at + '.loading']: false, [at + '.loaded']: true, [at + '.read']: d.read !== false,
          [at + '.body']: plainText(d.body), [at + '.images']: images,
          [at + '.corrected']: !!d.corrected_at, [at + '.corrected_at']: formatTime(d.corrected_at), [at + '.note']: d.correction_note || ''})
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

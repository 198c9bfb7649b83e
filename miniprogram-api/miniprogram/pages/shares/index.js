// Experience shared between instructors (经验交流, measures §五(一) 搭建交流平台). Two lists of
// GET /api/v1/shares: what the instructors of my county and city shared, once their staff approved
// it (tab "交流"), and my own shares with their review state and, when not approved, the reason
// (tab "我的分享", mine=true). "写分享" opens the form (pages/share-form). Opened with ?mine=1 (after
// sending one) the page starts on my shares.
const {getClient} = require('../../api/client')
const {pagedList, loadNextPage} = require('../../utils/paged-list')
const {formatTime} = require('../../utils/records')

const LIMIT = 20

function shareView(s, baseURL) {
  return {
    id: s.id, title: s.title, text: s.text, author: [s.instructor_name, s.unit_name].filter(Boolean).join(' · '),
    region: s.region_name || '', audience: s.audience_region ? '分享给' + s.audience_region + '的指导员' : '',
    time: formatTime(s.created_at), status: s.status, status_name: s.status_name, reason: s.reject_reason || '',
    mine: !!s.mine, images: (s.attachments || []).filter(a => a.kind === 'image').map(a => baseURL + a.url),
  }
}

Component({
  behaviors: [pagedList({path: '/api/v1/shares', query: {limit: LIMIT}})],
  data: {tab: 'all'},
  methods: {
    onLoad(o) {
      this.setData({tab: (o || {}).mine ? 'mine' : 'all'})
      return this.load()
    },
    query() {
      // 交流 lists approved shares only: my own still under review are under 我的分享, with their state
      return this.data.tab === 'mine' ? {limit: LIMIT, mine: true} : {limit: LIMIT, status: 'approved'}
    },
    firstPage() {
      return getClient().get('/api/v1/shares', this.query())
    },
    onReachBottom() {
      return loadNextPage(this, '/api/v1/shares', this.query(), more => this.showPage(more, null))
    },
    viewItems(list) {
      const base = getClient().config.baseURL
      return list.map(s => shareView(s, base))
    },
    onTab(e) {
      const tab = e.currentTarget.dataset.tab
      if (tab === this.data.tab) return Promise.resolve()
      this.setData({tab, items: []})
      return this.load()
    },
    onWrite() {
      wx.navigateTo({url: '/pages/share-form/index'})
    },
    onPreview(e) {
      const {index, src} = e.currentTarget.dataset
      wx.previewImage({urls: this.data.items[Number(index)].images, current: src})
    },
  },
})

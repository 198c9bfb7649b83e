// Share my experience (经验交流, measures §五(一)): a title, the text, up to 9 photos and who it is
// for (the instructors of my county or of my city). POST /api/v1/shares {client_id, title, text,
// audience, attachments}; the county's (or city's) staff approve it before others see it.
// Everything is kept on the phone until the server has it (storage key share_draft): the photos
// are uploaded one by one, each with its own client_id and its upload id remembered at once, so a
// retry never uploads one twice; the share's client_id stays the same while the content does, so
// a send whose answer was lost is stored once. A changed text gets a new id.
const {getClient} = require('../../api/client')
const {choosePhotos} = require('../../utils/photos')
const {uuidv4} = require('../../outbox/uuid')
const {priv} = require('../../utils/priv')

const DRAFT_KEY = 'share_draft'
const MAX_TITLE = 60
const MAX_TEXT = 5000
const MAX_PHOTOS = 9

function emptyDraft() {
  return {title: '', text: '', audience: 'county', photos: [], client_id: '', sent: ''}
}

function loadDraft() {
  try {
    const d = wx.getStorageSync(DRAFT_KEY)
    return d && typeof d.text === 'string' ? Object.assign(emptyDraft(), d) : emptyDraft()
  } catch (e) {
    return emptyDraft()
  }
}

function saveDraft(d) {
  try {
    if (d.title || d.text || d.photos.length || d.client_id) wx.setStorageSync(DRAFT_KEY, d)
    else wx.removeStorageSync(DRAFT_KEY)
  } catch (e) {
    // storage full: the text stays in the form
  }
}

/** What the share's client_id stands for: the same content keeps it. */
function signature(d) {
  return JSON.stringify([d.title.trim(), d.text.trim(), d.audience, d.photos.map(p => p.client_id)])
}

Component({
  data: {title: '', text: '', audience: 'county', photos: [], sending: false, sendError: '', maxTitle: MAX_TITLE, maxText: MAX_TEXT,
    maxPhotos: MAX_PHOTOS},
  methods: {
    onLoad() {
      const d = loadDraft()
      this.setData({title: d.title, text: d.text, audience: d.audience, photos: d.photos})
    },
    edit(change) {
      const d = Object.assign(loadDraft(), change)
      saveDraft(d)
      this.setData(Object.assign({sendError: ''}, change))
    },
    onTitle(e) {
      this.edit({title: (e.detail && typeof e.detail === 'object' ? e.detail.value : e.detail) || ''})
    },
    onText(e) {
      this.edit({text: (e.detail && typeof e.detail === 'object' ? e.detail.value : e.detail) || ''})
    },
    onAudience(e) {
      this.edit({audience: e.currentTarget.dataset.audience})
    },
    onAddPhotos() {
      return choosePhotos(MAX_PHOTOS - this.data.photos.length).then(files => {
        if (!files.length) return
        const photos = this.data.photos.concat(files.map(f => ({path: f.path, size: f.size || 0, client_id: uuidv4(), upload_id: 0})))
        this.edit({photos: photos.slice(0, MAX_PHOTOS)})
      })
    },
    onRemovePhoto(e) {
      const i = Number(e.currentTarget.dataset.index)
      this.edit({photos: this.data.photos.filter((_, j) => j !== i)})
    },
    /** Uploads the photos not uploaded yet, one by one, remembering each id at once. */
    uploadPhotos(d) {
      const client = getClient()
      let chain = Promise.resolve()
      d.photos.forEach((p, i) => {
        if (p.upload_id) return
        chain = chain.then(() => client.upload(p.path, {formData: {client_id: p.client_id}}).then(up => {
          d.photos[i] = Object.assign({}, p, {upload_id: up.id})
          saveDraft(d)
        }))
      })
      return chain
    },
    onSubmit() {
      if (this.data.sending) return Promise.resolve()
      const title = (this.data.title || '').trim()
      const text = (this.data.text || '').trim()
      let err = ''
      if (!title) err = '请填写标题'
      else if (title.length > MAX_TITLE) err = '标题最多' + MAX_TITLE + '字'
      else if (!text) err = '请填写分享的内容'
      else if (text.length > MAX_TEXT) err = '分享内容最多' + MAX_TEXT + '字'
      if (err) {
        this.setData({sendError: err})
        return Promise.resolve()
      }
      const d = loadDraft()
      Object.assign(d, {title: this.data.title, text: this.data.text, audience: this.data.audience, photos: this.data.photos})
      const sig = signature(d)
      if (!d.client_id || d.sent !== sig) {
        d.client_id = uuidv4()
        d.sent = sig
      }
      saveDraft(d)
      priv(this).sending = d.client_id
      this.setData({sending: true, sendError: ''})
      return this.uploadPhotos(d).then(() => getClient().post('/api/v1/shares', {client_id: d.client_id, title, text,
        audience: d.audience, attachments: d.photos.map(p => p.upload_id)})).then(() => {
        saveDraft(emptyDraft())
        this.setData({sending: false, title: '', text: '', photos: []})
        wx.showToast({title: '已提交,审核通过后分享', icon: 'none'})
        wx.redirectTo({url: '/pages/shares/index?mine=1'})
      }, e => {
        if (e.details && e.details.some(x => x.field === 'attachments')) {
          // an upload the server no longer has (swept after a long wait): upload the photos anew
          d.photos = d.photos.map(p => Object.assign({}, p, {upload_id: 0}))
          saveDraft(d)
        }
        const msg = e.retryable ? '没有发送成功,内容已保存在手机上,请稍后点“提交”重试' : (e.fullMessage || e.message)
        this.setData({sending: false, photos: d.photos, sendError: msg})
      })
    },
  },
})

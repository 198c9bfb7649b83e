// My suggestions (意见建议, measures §五(一) 听取意见建议): what I sent to my county's ethnic-affairs
// bureau and its answers (GET /api/v1/suggestions, mine only), and a form to send a new one
// (POST /api/v1/suggestions {client_id, content}). The text and its client_id are kept on the
// phone until the server has it: a send lost on a weak network is retried with the same id and
// stored once; a text changed after a failed send gets a new id. Opened from the answer's
// subscribe message (?id=), that suggestion is shown first and marked.
const {getClient} = require('../../api/client')
const {pagedList} = require('../../utils/paged-list')
const {formatTime} = require('../../utils/records')
const {requestSubscribe} = require('../../utils/subscribe')
const {uuidv4} = require('../../outbox/uuid')
const {priv} = require('../../utils/priv')

const DRAFT_KEY = 'suggestion_draft'
const MAX_CONTENT = 1000

function suggestionView(s, focus) {
  return {
    id: s.id, content: s.content, county: s.county_name || '', created: formatTime(s.created_at),
    answered: s.status === 'answered', status_name: s.status_name, answer: s.answer || '', answered_at: formatTime(s.answered_at),
    focus: s.id === focus,
  }
}

/** The draft on the phone: {content, client_id, sent_content} (the id belongs to the text sent with it). */
function loadDraft() {
  try {
    const d = wx.getStorageSync(DRAFT_KEY)
    return d && typeof d.content === 'string' ? d : {content: '', client_id: '', sent_content: ''}
  } catch (e) {
    return {content: '', client_id: '', sent_content: ''}
  }
}

function saveDraft(d) {
  try {
    if (d.content || d.client_id) wx.setStorageSync(DRAFT_KEY, d)
    else wx.removeStorageSync(DRAFT_KEY)
  } catch (e) {
    // storage full: the text stays in the form
  }
}

Component({
  behaviors: [pagedList({path: '/api/v1/suggestions', query: {limit: 20}})],
  data: {content: '', sending: false, sendError: '', max: MAX_CONTENT, focus: 0},
  methods: {
    onLoad(o) {
      const focus = Number((o || {}).id) || 0
      this.setData({content: loadDraft().content, focus})
      return this.load()
    },
    /** The first page, with the suggestion of the message first (fetched when not listed). */
    firstPage() {
      const client = getClient()
      return client.get('/api/v1/suggestions', {limit: 20}).then(r => {
        const focus = this.data.focus
        const items = r.items || []
        if (!focus) return r
        const i = items.findIndex(s => s.id === focus)
        if (i >= 0) return {items: [items[i]].concat(items.filter((_, j) => j !== i)), next_cursor: r.next_cursor}
        return client.get('/api/v1/suggestions/' + focus).then(s => ({items: [s].concat(items), next_cursor: r.next_cursor}), e => {
          wx.showToast({title: e.message, icon: 'none'})
          return r
        })
      })
    },
    viewItems(list) {
      return list.map(s => suggestionView(s, this.data.focus))
    },
    onInput(e) {
      const content = e.detail && typeof e.detail === 'object' ? e.detail.value : e.detail
      const d = loadDraft()
      d.content = content || ''
      saveDraft(d)
      this.setData({content: d.content, sendError: ''})
    },
    onSubmit() {
      if (this.data.sending) return Promise.resolve()
      const content = (this.data.content || '').trim()
      if (!content) {
        this.setData({sendError: '请填写意见建议'})
        return Promise.resolve()
      }
      if (content.length > MAX_CONTENT) {
        this.setData({sendError: '意见建议最多' + MAX_CONTENT + '字'})
        return Promise.resolve()
      }
      // From the tap itself (WeChat requires a user gesture): be told when the county answers.
      requestSubscribe(['suggestion_answered'])
      const d = loadDraft()
      if (!d.client_id || d.sent_content !== content) {
        d.client_id = uuidv4()
        d.sent_content = content
      }
      d.content = this.data.content
      saveDraft(d)
      priv(this).sending = d.client_id
      this.setData({sending: true, sendError: ''})
      return getClient().post('/api/v1/suggestions', {client_id: d.client_id, content}).then(s => {
        saveDraft({content: '', client_id: '', sent_content: ''})
        const items = [suggestionView(s, this.data.focus)].concat(this.data.items.filter(x => x.id !== s.id))
        this.setData({sending: false, content: '', items})
        wx.showToast({title: '已提交', icon: 'success'})
      }, e => {
        const msg = e.retryable ? '没有发送成功,内容已保存在手机上,请稍后点“提交”重试' : (e.fullMessage || e.message)
        this.setData({sending: false, sendError: msg})
      })
    },
  },
})

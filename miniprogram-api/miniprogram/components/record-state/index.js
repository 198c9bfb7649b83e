// <record-state state="queued" />: the state tag of a record (草稿 待上传 上传中 文字已发送 已提交 被退回 失败).
// text_sent: the record is on the server, its photos still going up (outbox.js, text first).
const LABELS = {draft: '草稿', queued: '待上传', sending: '上传中', text_sent: '文字已发送', submitted: '已提交', returned: '被退回', failed: '失败'}
const TYPES = {draft: 'default', queued: 'warning', sending: 'primary', text_sent: 'primary', submitted: 'success', returned: 'danger', failed: 'danger'}

Component({
  properties: {
    state: {type: String, value: 'draft', observer: 'update'},
  },
  data: {label: '草稿', type: 'default'},
  lifetimes: {
    attached() {
      this.update()
    },
  },
  methods: {
    update() {
      const s = this.data.state
      this.setData({label: LABELS[s] || s, type: TYPES[s] || 'default'})
    },
  },
})

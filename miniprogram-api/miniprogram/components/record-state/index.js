// <record-state state="queued" />: the state tag of a record (草稿 待上传 上传中 已提交 被退回 失败).
const LABELS = {draft: '草稿', queued: '待上传', sending: '上传中', submitted: '已提交', returned: '被退回', failed: '失败'}
const TYPES = {draft: 'default', queued: 'warning', sending: 'primary', submitted: 'success', returned: 'danger', failed: 'danger'}

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

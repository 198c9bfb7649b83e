// One of my records as the server holds it: its fields, the staff's note or answer, and every
// step it went through.
const {getClient} = require('../../api/client')
const {KINDS, formatTime} = require('../../utils/records')

const FIELD_LABELS = {
  visit: [['visit_kind_name', '走访类型'], ['households', '走访户数'], ['people', '走访人数'], ['content', '走访内容']],
  sentiment: [['category_name', '类别'], ['content', '民情内容'], ['urgency_name', '紧急程度'], ['suggestion', '意见建议'], ['forwarded_to', '转达部门'], ['answer', '答复']],
  tip: [['level_name', '风险等级'], ['kind_name', '线索类型'], ['people_involved', '涉及人数'], ['groups_involved', '涉及群体'], ['description', '线索描述']],
  mediation: [['dispute_kind_name', '纠纷类型'], ['process', '调解过程'], ['outcome_name', '调解结果'], ['agreement', '调解协议']],
}

Component({
  data: {loading: false, error: '', record: null, fields: [], steps: [], images: [], time: '', feedback: '', kind: '', id: 0},
  methods: {
    onLoad(o) {
      this.setData({kind: o.kind, id: Number(o.id)})
      return this.load()
    },
    onRetry() {
      return this.load()
    },
    load() {
      const k = KINDS[this.data.kind]
      if (!k) {
        this.setData({error: '记录类型不正确'})
        return Promise.resolve()
      }
      this.setData({loading: true, error: ''})
      const c = getClient()
      return c.get('/api/v1/' + k.path + '/' + this.data.id).then(v => {
        const own = v[v.kind] || {}
        const fields = (FIELD_LABELS[v.kind] || []).filter(([key]) => own[key] !== undefined && own[key] !== '')
          .map(([key, label]) => ({label, value: String(own[key])}))
        // the role of the five it served and its tags (measures §三)
        if (v.role_name) fields.unshift({label: '发挥的作用', value: v.role_name})
        if ((v.tag_names || []).length) fields.splice(v.role_name ? 1 : 0, 0, {label: '标签', value: v.tag_names.join('、')})
        const steps = (v.timeline || []).map(s => ({text: s.action_name + (s.actor && s.actor.name ? ' · ' + s.actor.name : ''),
          desc: formatTime(s.created_at) + (s.note ? ' ' + s.note : '')}))
        const images = (v.attachments || []).filter(a => a.kind === 'image').map(a => c.config.baseURL + a.url)
        const feedback = v.kind === 'sentiment' && own.answer ? '答复:' + own.answer : ''
        this.setData({loading: false, record: v, fields, steps, images, feedback, time: formatTime(v.occurred_at)})
      }, e => this.setData({loading: false, error: e.message}))
    },
    onPreview(e) {
      wx.previewImage({urls: this.data.images, current: e.currentTarget.dataset.src})
    },
    onResubmit() {
      wx.navigateTo({url: '/pages/record-form/index?kind=' + this.data.kind + '&server_id=' + this.data.id})
    },
  },
})

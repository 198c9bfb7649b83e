// Self-nomination (个人自荐) for someone not yet on the roster: POST /api/v1/nominations without a
// token, with the bind ticket that WeChat login gave this (unbound) WeChat user, the person's
// details (as for registering an instructor), and the unit: its county-or-lower region (picked from
// GET /api/v1/regions, public) and its name. The county office reviews it; once appointed, the
// person binds with their phone number or an invite code.
//   ?ticket=…   the bind ticket from the login page (it lives 15 minutes; an expired one is renewed
//               with a new WeChat login and the submission sent again, once)
const {getClient} = require('../../api/client')
const dictionaries = require('../../utils/dictionaries')
const {goHome, LOGIN} = require('../../utils/nav')

const LEVELS = ['city', 'county', 'township']
const LEVEL_NAMES = {city: '市', county: '县(市、区)', township: '乡镇(街道)'}

function chars(s) {
  return Array.from(s || '').length
}

/** Checks before sending; returns {field: message}. */
function check(f, regionCode) {
  const e = {}
  const name = (f.name || '').trim()
  if (!name) e.name = '请填写姓名'
  else if (chars(name) > 50) e.name = '姓名最多50个字'
  if (!f.gender) e.gender = '请选择性别'
  if (!f.ethnicity) e.ethnicity = '请选择民族'
  if (!/^1[3-9]\d{9}$/.test((f.phone || '').trim())) e.phone = '请填写11位手机号'
  const id = (f.id_number || '').trim()
  if (id && !/^\d{17}[\dXx]$/.test(id)) e.id_number = '身份证号应为18位'
  if (!f.source_category) e.source_category = '请选择人员类别'
  if (chars(f.position) > 100) e.position = '职务最多100个字'
  if (!regionCode) e.region_code = '请选择单位所在的县(市、区)'
  const unit = (f.unit_name || '').trim()
  if (!unit) e.unit_name = '请填写单位名称'
  else if (chars(unit) > 100) e.unit_name = '单位名称最多100个字'
  if (chars(f.statement) > 1000) e.statement = '自荐理由最多1000个字'
  return e
}

Component({
  data: {
    ticket: '',
    dict: dictionaries.cached(),
    form: {name: '', gender: '', ethnicity: '', phone: '', id_number: '', political_status: '', position: '', source_category: '',
      unit_name: '', statement: ''},
    shown: {},
    regions: {city: [], county: [], township: []},
    chosen: {city: null, county: null, township: null},
    regionError: '',
    levelNames: LEVEL_NAMES,
    errors: {},
    busy: false,
    error: '',
    done: null,
  },
  methods: {
    onLoad(o) {
      const q = o || {}
      this.setData({ticket: q.ticket ? decodeURIComponent(q.ticket) : ''})
      return Promise.all([
        dictionaries.load().then(dict => this.setData({dict})),
        this.loadRegions('city', ''),
      ])
    },

    /** Children of `parent` (12-digit code; '' for Hebei's cities) for the picker of `level`. */
    loadRegions(level, parent) {
      this.setData({regionError: ''})
      return getClient().get('/api/v1/regions', parent ? {parent} : null, {auth: false}).then(r => {
        this.setData({['regions.' + level]: r.items.map(x => ({code: x.code, name: x.name}))})
      }, e => this.setData({regionError: '行政区划加载失败:' + e.message}))
    },

    onRegion(e) {
      const level = e.currentTarget.dataset.level
      const item = this.data.regions[level][Number(e.detail.value)]
      if (!item) return Promise.resolve()
      const i = LEVELS.indexOf(level)
      const patch = {['chosen.' + level]: item}
      LEVELS.slice(i + 1).forEach(l => {
        patch['chosen.' + l] = null
        patch['regions.' + l] = []
      })
      this.setData(patch)
      this.clearError('region_code')
      const next = LEVELS[i + 1]
      return next ? this.loadRegions(next, item.code) : Promise.resolve()
    },

    /** The unit's region: the township if chosen, else the county (a city is not enough). */
    regionCode() {
      const c = this.data.chosen
      if (c.township) return c.township.code
      if (c.county) return c.county.code
      return ''
    },

    onField(e) {
      const field = e.currentTarget.dataset.field
      this.setData({['form.' + field]: e.detail})
      this.clearError(field)
    },

    onPick(e) {
      const {field, list} = e.currentTarget.dataset
      const item = (this.data.dict[list] || [])[Number(e.detail.value)]
      if (!item) return
      this.setData({['form.' + field]: item.code, ['shown.' + field]: item.label})
      this.clearError(field)
    },

    clearError(field) {
      if (!this.data.errors[field]) return
      const errors = Object.assign({}, this.data.errors)
      delete errors[field]
      this.setData({errors})
    },

    /** The request body (NominationInput), without the ticket. */
    body() {
      const f = this.data.form
      const b = {name: f.name.trim(), gender: f.gender, ethnicity: f.ethnicity, phone: f.phone.trim(), source_category: f.source_category,
        region_code: this.regionCode(), unit_name: f.unit_name.trim()}
      if (f.id_number.trim()) b.id_number = f.id_number.trim().toUpperCase()
      if (f.political_status) b.political_status = f.political_status
      if (f.position.trim()) b.position = f.position.trim()
      if (f.statement.trim()) b.statement = f.statement.trim()
      return b
    },

    onSubmit() {
      if (this.data.busy) return Promise.resolve()
      const errors = check(this.data.form, this.regionCode())
      this.setData({errors, error: ''})
      if (Object.keys(errors).length) {
        wx.showToast({title: '请检查标红的内容', icon: 'none'})
        return Promise.resolve()
      }
      this.setData({busy: true})
      return this.send(this.body(), true)
    },

    send(body, mayRenew) {
      const c = getClient()
      const ticket = this.data.ticket
      const first = ticket ? Promise.resolve(ticket) : this.renewTicket()
      return first.then(t => {
        if (!t) return null
        return c.post('/api/v1/nominations', Object.assign({}, body, {bind_ticket: t}), {auth: false}).then(n => {
          this.setData({busy: false, done: {name: n.name, status_name: n.status_name, unit_name: n.unit_name, region_name: n.region_name}})
        })
      }).catch(e => {
        if (e && e.code === 'bind_ticket_invalid' && mayRenew) {
          this.setData({ticket: ''})
          return this.send(body, false)
        }
        const errors = {}
        ;(e.details || []).forEach(d => { errors[d.field] = d.message })
        this.setData({busy: false, error: e.fullMessage || e.message, errors: Object.assign({}, this.data.errors, errors)})
      })
    },

    /** A fresh bind ticket from a new WeChat login; null when this WeChat user is bound meanwhile. */
    renewTicket() {
      return getClient().wechatLogin().then(r => {
        if (r.tokens) {
          this.setData({busy: false})
          wx.showToast({title: '您已是指导员,已为您登录', icon: 'none'})
          goHome()
          return null
        }
        this.setData({ticket: r.bindTicket})
        return r.bindTicket
      })
    },

    onBack() {
      wx.reLaunch({url: LOGIN})
    },

  },
})

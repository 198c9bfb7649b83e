// The four record forms (visit, sentiment, tip, mediation) in one page, chosen by ?kind=.
//   ?kind=tip                    a new record
//   ?kind=tip&client_id=…        a draft or failed record from the outbox
//   ?kind=tip&server_id=…        a record the staff returned: edit and resubmit
// Whatever the network, 提交 saves the record in the outbox, which sends it when it can.
const {priv} = require('../../utils/priv')
const {getClient} = require('../../api/client')
const {getOutbox, persistFile} = require('../../outbox/outbox')
const {choosePhotos} = require('../../utils/photos')
const {KINDS, validate, toBeijingISO, labelOf, defaultRole} = require('../../utils/records')
const dictionaries = require('../../utils/dictionaries')
const {requestSubscribe} = require('../../utils/subscribe')
const {MAX_ATTACHMENTS} = require('../../utils/limits')

// Subscribe messages asked for at 提交, most important first (at most 3, utils/subscribe.js).
const SUBMIT_TEMPLATES = {
  tip: ['tip_acknowledged', 'record_returned'],
  sentiment: ['sentiment_answered', 'record_returned'],
  visit: ['record_returned'],
  mediation: ['record_returned'],
}

function emptyForm() {
  return {
    title: '',
    place: '',
    latitude: null,
    longitude: null,
    visit: {visit_kind: '', households: '', people: '', ethnicities: [], content: '', follow_up_needed: false},
    sentiment: {category: '', content: '', people_affected: '', urgency: '', suggestion: ''},
    tip: {level: '', kind: '', people_involved: '', groups_involved: '', description: '', ongoing: false},
    mediation: {dispute_kind: '', parties: [], process: '', outcome: '', agreement: ''},
    // the role of the five (§三) the record serves and its tags (the brand 石榴花开, the duties)
    role: '',
    tags: [],
  }
}

function splitTime(iso) {
  const s = toBeijingISO(iso ? new Date(Date.parse(iso)) : new Date())
  return {date: s.slice(0, 10), time: s.slice(11, 16)}
}

/** The form's own fields as the API wants them (numbers as numbers, empty counts as 0). */
function kindBody(kind, f) {
  const int = v => (v === '' || v === null || v === undefined ? 0 : v)
  const d = f[kind]
  switch (kind) {
    case 'visit':
      return {visit_kind: d.visit_kind, households: int(d.households), people: int(d.people), ethnicities: d.ethnicities,
        content: d.content, follow_up_needed: !!d.follow_up_needed}
    case 'sentiment':
      return {category: d.category, content: d.content, people_affected: int(d.people_affected), urgency: d.urgency, suggestion: d.suggestion}
    case 'tip':
      return {level: d.level, kind: d.kind, people_involved: int(d.people_involved), groups_involved: d.groups_involved,
        description: d.description, ongoing: !!d.ongoing}
    case 'mediation':
      return {dispute_kind: d.dispute_kind, parties: d.parties.map(p => ({name: p.name, ethnicity: p.ethnicity, role: p.role})),
        process: d.process, outcome: d.outcome, agreement: d.agreement}
  }
  return {}
}

Component({
  data: {
    kind: 'visit',
    kindLabel: '',
    loading: false,
    loadError: '',
    busy: false,
    recording: false,
    dict: dictionaries.cached(),
    shown: {},
    form: emptyForm(),
    // false while the role follows the record's kind (and visit type); true once the instructor picks one
    roleChosen: false,
    tagChoices: [],
    date: '',
    time: '',
    today: '',
    ethnicityLabels: [],
    attachments: [],
    maxAttachments: MAX_ATTACHMENTS,
    errors: {},
    errorCount: 0,
    saveError: '',
    returnNote: '',
    clientId: '',
    serverId: 0,
  },
  lifetimes: {
    detached() {
      if (priv(this).recorder && this.data.recording) priv(this).recorder.stop()
    },
  },
  methods: {
    onLoad(options) {
      const o = options || {}
      const kind = KINDS[o.kind] ? o.kind : 'visit'
      const now = splitTime(null)
      this.setData({kind, kindLabel: KINDS[kind].label, date: now.date, time: now.time, today: now.date,
        clientId: o.client_id || '', serverId: Number(o.server_id) || 0})
      if (wx.setNavigationBarTitle) wx.setNavigationBarTitle({title: KINDS[kind].label})
      this.refreshLabels() // the default role and the tags from the lists at hand
      const dictReady = dictionaries.load().then(dict => {
        this.setData({dict})
        this.refreshLabels()
      })
      if (o.client_id) this.loadDraft(o.client_id)
      else if (o.server_id) return Promise.all([dictReady, this.loadReturned()])
      return dictReady
    },

    onRetryLoad() {
      return this.loadReturned()
    },

    loadDraft(clientId) {
      const it = getOutbox().get(clientId)
      if (!it) {
        this.setData({loadError: '草稿不存在或已提交'})
        return
      }
      this.fill(it.record, it.attachments, it.return_note || (it.error ? it.error.message : ''))
      if (it.server_id) this.setData({serverId: it.server_id})
    },

    /** A returned record: its current content from the server. */
    loadReturned() {
      const k = KINDS[this.data.kind]
      this.setData({loading: true, loadError: ''})
      return getClient().get('/api/v1/' + k.path + '/' + this.data.serverId).then(v => {
        const record = {title: v.title, occurred_at: v.occurred_at, place: v.place, latitude: v.latitude, longitude: v.longitude,
          role: v.role, tags: v.tags}
        record[v.kind] = v[v.kind]
        const atts = (v.attachments || []).map(a => ({path: '', type: a.kind === 'audio' ? 'audio' : 'image', upload_id: a.id}))
        this.setData({loading: false})
        this.fill(record, atts, v.return_note || '')
      }, e => this.setData({loading: false, loadError: e.message}))
    },

    fill(record, attachments, note) {
      const form = emptyForm()
      form.title = record.title || ''
      form.place = record.place || ''
      form.latitude = record.latitude === undefined ? null : record.latitude
      form.longitude = record.longitude === undefined ? null : record.longitude
      const kind = this.data.kind
      const own = record[kind] || {}
      Object.keys(form[kind]).forEach(key => {
        if (own[key] !== undefined && own[key] !== null) form[kind][key] = own[key]
      })
      if (kind === 'mediation') form.mediation.parties = (own.parties || []).map(p => ({name: p.name, ethnicity: p.ethnicity, role: p.role}))
      form.role = record.role || ''
      form.tags = (record.tags || []).slice()
      // A role other than the default was picked; the default goes on following the visit type.
      const roleChosen = !!form.role && form.role !== defaultRole(kind, form.visit.visit_kind)
      const t = splitTime(record.occurred_at)
      this.setData({form, roleChosen, date: t.date, time: t.time, attachments: (attachments || []).map(a => Object.assign({}, a)), returnNote: note || ''})
      this.refreshLabels()
    },

    /** Labels of the chosen codes, for the pickers' cells. */
    refreshLabels() {
      const {dict, form, kind} = this.data
      const shown = {}
      const pairs = {visit: [['visit_kind', 'visit_kind']], sentiment: [['sentiment_category', 'category'], ['urgency', 'urgency']],
        tip: [['tip_level', 'level'], ['tip_kind', 'kind']], mediation: [['dispute_kind', 'dispute_kind'], ['mediation_outcome', 'outcome']]}
      ;(pairs[kind] || []).forEach(([list, field]) => {
        shown[list] = labelOf(dict[list], form[kind][field])
      })
      const parties = form.mediation.parties.map(p => Object.assign({}, p, {
        ethnicity_label: labelOf(dict.ethnicity, p.ethnicity), role_label: labelOf(dict.party_role, p.role)}))
      const role = this.data.roleChosen && form.role ? form.role : defaultRole(kind, form.visit.visit_kind)
      shown.instructor_role = labelOf(dict.instructor_role, role)
      const tagChoices = (dict.record_tag || []).map(c => ({code: c.code, label: c.label, on: form.tags.indexOf(c.code) >= 0}))
      this.setData({shown, 'form.role': role, tagChoices, 'form.mediation.parties': parties,
        ethnicityLabels: form.visit.ethnicities.map(c => labelOf(dict.ethnicity, c) || c)})
    },

    // ---- inputs

    onField(e) {
      const {field, type} = e.currentTarget.dataset
      let v = typeof e.detail === 'object' && e.detail !== null ? e.detail.value : e.detail
      if (type === 'int') {
        const s = String(v === undefined || v === null ? '' : v).trim()
        v = s === '' ? '' : (/^\d+$/.test(s) ? parseInt(s, 10) : s)
      }
      this.setData({['form.' + field]: v})
      this.clearError(field)
    },

    onSwitch(e) {
      this.setData({['form.' + e.currentTarget.dataset.field]: !!e.detail})
    },

    onPick(e) {
      const {field, list} = e.currentTarget.dataset
      const item = (this.data.dict[list] || [])[Number(e.detail.value)]
      if (!item) return
      this.setData({['form.' + field]: item.code, ['shown.' + list]: item.label})
      if (field === 'role') this.setData({roleChosen: true})
      // the default role follows the visit type
      else if (field === 'visit.visit_kind') this.refreshLabels()
      this.clearError(field)
    },

    onToggleTag(e) {
      const code = e.currentTarget.dataset.code
      const on = this.data.form.tags.indexOf(code) < 0
      // kept in the order of the code list
      const tags = (this.data.dict.record_tag || []).map(c => c.code)
        .filter(c => (c === code ? on : this.data.form.tags.indexOf(c) >= 0))
      this.setData({'form.tags': tags, tagChoices: this.data.tagChoices.map(c => Object.assign({}, c, {on: tags.indexOf(c.code) >= 0}))})
      this.clearError('tags')
    },

    onDate(e) {
      this.setData({date: e.detail.value})
      this.clearError('occurred_at')
    },
    onTime(e) {
      this.setData({time: e.detail.value})
      this.clearError('occurred_at')
    },

    clearError(field) {
      if (this.data.errors[field]) {
        const errors = Object.assign({}, this.data.errors)
        delete errors[field]
        this.setData({errors, errorCount: Object.keys(errors).length})
      }
    },

    onChooseLocation() {
      return new Promise(resolve => {
        wx.chooseLocation({
          success: r => {
            this.setData({'form.place': r.name || r.address || this.data.form.place, 'form.latitude': r.latitude, 'form.longitude': r.longitude})
            resolve()
          },
          fail: () => resolve(), // cancelled, or no permission: the place can be typed
        })
      })
    },

    onAddEthnicity(e) {
      const item = this.data.dict.ethnicity[Number(e.detail.value)]
      if (!item || this.data.form.visit.ethnicities.indexOf(item.code) >= 0) return
      this.setData({'form.visit.ethnicities': this.data.form.visit.ethnicities.concat(item.code)})
      this.refreshLabels()
    },
    onRemoveEthnicity(e) {
      const list = this.data.form.visit.ethnicities.slice()
      list.splice(Number(e.currentTarget.dataset.index), 1)
      this.setData({'form.visit.ethnicities': list})
      this.refreshLabels()
    },

    onAddParty() {
      const parties = this.data.form.mediation.parties.concat({name: '', ethnicity: '', role: '', ethnicity_label: '', role_label: ''})
      this.setData({'form.mediation.parties': parties})
      this.clearError('mediation.parties')
    },
    onRemoveParty(e) {
      const parties = this.data.form.mediation.parties.slice()
      parties.splice(Number(e.currentTarget.dataset.index), 1)
      this.setData({'form.mediation.parties': parties})
    },
    onParty(e) {
      const {index, key} = e.currentTarget.dataset
      this.setData({['form.mediation.parties[' + index + '].' + key]: e.detail})
      this.clearError('mediation.parties')
    },
    onPartyPick(e) {
      const {index, key, list} = e.currentTarget.dataset
      const item = (this.data.dict[list] || [])[Number(e.detail.value)]
      if (!item) return
      this.setData({['form.mediation.parties[' + index + '].' + key]: item.code,
        ['form.mediation.parties[' + index + '].' + key + '_label']: item.label})
      this.clearError('mediation.parties')
    },

    // ---- photos and voice

    onAddPhoto() {
      const room = MAX_ATTACHMENTS - this.data.attachments.length
      if (room <= 0) return Promise.resolve()
      return choosePhotos(room).then(files => {
        if (files.length) this.setData({attachments: this.data.attachments.concat(files).slice(0, MAX_ATTACHMENTS)})
      })
    },

    onToggleRecord() {
      if (!priv(this).recorder) {
        priv(this).recorder = wx.getRecorderManager()
        priv(this).recorder.onStop(r => {
          this.setData({recording: false})
          if (!r.tempFilePath) return
          persistFile(r.tempFilePath).then(path => {
            this.setData({attachments: this.data.attachments.concat({path, type: 'audio', size: r.fileSize || 0,
              duration: r.duration || 0, seconds: Math.round((r.duration || 0) / 1000)})})
          })
        })
        priv(this).recorder.onError(() => {
          this.setData({recording: false})
          wx.showToast({title: '录音失败,请检查麦克风权限', icon: 'none'})
        })
      }
      if (this.data.recording) {
        priv(this).recorder.stop()
        return
      }
      if (this.data.attachments.length >= MAX_ATTACHMENTS) return
      // AAC in an ADTS stream: one of the server's accepted audio types; 60 s keeps files small.
      priv(this).recorder.start({duration: 60000, format: 'aac', sampleRate: 16000, numberOfChannels: 1, encodeBitRate: 32000})
      this.setData({recording: true})
    },

    onRemoveAttachment(e) {
      const list = this.data.attachments.slice()
      list.splice(Number(e.currentTarget.dataset.index), 1)
      this.setData({attachments: list})
    },

    // ---- saving

    /** The request body (without client_id and attachments). */
    record() {
      const f = this.data.form
      const body = {
        title: (f.title || '').trim(),
        occurred_at: this.data.date && this.data.time ? this.data.date + 'T' + this.data.time + ':00+08:00' : '',
        place: (f.place || '').trim(),
      }
      if (f.latitude !== null && f.longitude !== null && f.latitude !== undefined) {
        body.latitude = f.latitude
        body.longitude = f.longitude
      }
      body.role = this.data.roleChosen && f.role ? f.role : defaultRole(this.data.kind, f.visit.visit_kind)
      body.tags = f.tags.slice()
      body[this.data.kind] = kindBody(this.data.kind, f)
      return body
    },

    attachmentList() {
      return this.data.attachments.map(a => ({path: a.path, type: a.type, size: a.size, duration: a.duration, upload_id: a.upload_id,
        client_id: a.client_id}))
    },

    save(queue) {
      const draft = {kind: this.data.kind, record: this.record(), attachments: this.attachmentList(),
        client_id: this.data.clientId || undefined, server_id: this.data.serverId || undefined, return_note: this.data.returnNote}
      const outbox = getOutbox()
      const it = outbox.saveDraft(draft)
      this.setData({clientId: it.client_id, saveError: ''})
      if (queue) outbox.queue(it.client_id)
      return it
    },

    onSaveDraft() {
      try {
        this.save(false)
        wx.showToast({title: '草稿已保存', icon: 'success'})
      } catch (e) {
        this.setData({saveError: e.message})
      }
    },

    onSubmit() {
      if (this.data.busy || this.data.recording) return
      const body = this.record()
      // The server checks the same rules; checking here saves a round trip on a weak network.
      const errors = validate(this.data.kind, Object.assign({}, body, {[this.data.kind]: this.rawKindFields(body)}))
      const count = Object.keys(errors).length
      this.setData({errors, errorCount: count, saveError: ''})
      if (count) {
        wx.showToast({title: '请检查标红的内容', icon: 'none'})
        return
      }
      // Ask for subscribe messages from the tap itself (WeChat requires a user gesture): being told
      // when the record is returned for correction, and for a tip when it is acknowledged (for a
      // sentiment report when it is answered).
      requestSubscribe(SUBMIT_TEMPLATES[this.data.kind] || ['record_returned'])
      this.setData({busy: true})
      try {
        this.save(true)
      } catch (e) {
        this.setData({busy: false, saveError: e.message})
        return
      }
      this.setData({busy: false})
      wx.showToast({title: '已保存,有网络时自动上传', icon: 'none', duration: 2500})
      wx.redirectTo({url: '/pages/records/index'})
    },

    /** Counts as typed (so "abc" is caught as not a number rather than sent as 0). */
    rawKindFields(body) {
      const raw = Object.assign({}, body[this.data.kind])
      const d = this.data.form[this.data.kind]
      ;['households', 'people', 'people_affected', 'people_involved'].forEach(k => {
        if (k in raw) raw[k] = d[k]
      })
      return raw
    },
  },
})

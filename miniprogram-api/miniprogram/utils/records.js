// The four kinds of field record, their routes and the checks the phone makes before sending
// (the same limits the server enforces, so an instructor on a weak network is told at once).
'use strict'

const {utf8Length} = require('./bytes')

const KINDS = {
  visit: {name: 'visit', path: 'visits', label: '走访日志', short: '走访'},
  sentiment: {name: 'sentiment', path: 'sentiments', label: '民情报告', short: '民情'},
  tip: {name: 'tip', path: 'tips', label: '风险隐患线索', short: '线索'},
  mediation: {name: 'mediation', path: 'mediations', label: '矛盾纠纷调解记录', short: '调解'},
}

const KIND_ORDER = ['visit', 'sentiment', 'tip', 'mediation']

// Code lists used until GET /api/v1/dictionaries answers (and when it cannot be reached offline).
// The server's lists win when they arrive.
const FALLBACK_DICTIONARIES = {
  visit_kind: [
    {code: 'policy_publicity', label: '政策宣传'}, {code: 'condolence', label: '走访慰问'},
    {code: 'help_service', label: '帮扶服务'}, {code: 'activity', label: '组织活动'},
    {code: 'home_visit', label: '入户走访'}, {code: 'other', label: '其他'},
  ],
  sentiment_category: [
    {code: 'livelihood', label: '民生诉求'}, {code: 'employment', label: '就业创业'}, {code: 'education', label: '教育'},
    {code: 'healthcare', label: '医疗卫生'}, {code: 'social_security', label: '社会保障'}, {code: 'land_housing', label: '土地房屋'},
    {code: 'ethnic_relations', label: '民族关系'}, {code: 'religious_affairs', label: '宗教事务'},
    {code: 'public_order', label: '社会治安'}, {code: 'policy', label: '政策落实'},
    {code: 'customs_culture', label: '风俗文化'}, {code: 'other', label: '其他'},
  ],
  urgency: [{code: 'normal', label: '一般'}, {code: 'urgent', label: '紧急'}, {code: 'very_urgent', label: '特别紧急'}],
  tip_level: [{code: 'general', label: '一般'}, {code: 'serious', label: '较大'}, {code: 'major', label: '重大'}, {code: 'critical', label: '特别重大'}],
  tip_kind: [{code: 'tendency', label: '倾向性'}, {code: 'sign', label: '苗头性'}, {code: 'hazard', label: '风险隐患'}],
  dispute_kind: [
    {code: 'neighborhood', label: '邻里纠纷'}, {code: 'marriage_family', label: '婚姻家庭纠纷'},
    {code: 'land', label: '土地山林纠纷'}, {code: 'housing', label: '房屋宅基地纠纷'}, {code: 'labor', label: '劳动争议'},
    {code: 'contract_debt', label: '合同债务纠纷'}, {code: 'business', label: '经营纠纷'},
    {code: 'customs', label: '风俗习惯纠纷'}, {code: 'religious', label: '涉及宗教因素纠纷'}, {code: 'other', label: '其他'},
  ],
  mediation_outcome: [
    {code: 'settled', label: '调解成功'}, {code: 'partly_settled', label: '部分调解成功'},
    {code: 'failed', label: '调解不成功'}, {code: 'referred', label: '已移交有关部门'},
  ],
  gender: [{code: 'male', label: '男'}, {code: 'female', label: '女'}],
  political_status: [
    {code: 'cpc_member', label: '中共党员'}, {code: 'cpc_probationary', label: '中共预备党员'}, {code: 'cyl_member', label: '共青团员'},
    {code: 'democratic_party', label: '民主党派成员'}, {code: 'non_party', label: '无党派人士'}, {code: 'masses', label: '群众'},
  ],
  source_category: [
    {code: 'township_cadre', label: '乡镇(街道)干部'}, {code: 'religious_affairs_cadre', label: '宗教专干'},
    {code: 'ethnic_religious_assistant', label: '民宗助理'}, {code: 'political_legal_member', label: '政法委员'},
    {code: 'village_committee', label: '村(社区)两委成员'}, {code: 'civil_affairs_assistant', label: '民政协理员'},
    {code: 'mediator', label: '人民调解员'}, {code: 'org_head', label: '学校、企业、机关事业单位、连队、“两新”组织负责人'},
    {code: 'minority_representative', label: '少数民族群众代表'}, {code: 'other', label: '其他'},
  ],
  party_role: [{code: 'applicant', label: '申请人'}, {code: 'respondent', label: '被申请人'}, {code: 'interested', label: '利害关系人'}, {code: 'other', label: '其他'}],
  instructor_role: [
    {code: 'political_guide', label: '政治引领员'}, {code: 'policy_publicist', label: '政策宣传员'},
    {code: 'activity_organizer', label: '活动组织员'}, {code: 'stability_mediator', label: '维稳调解员'},
    {code: 'sentiment_liaison', label: '民情联络员'},
  ],
  record_tag: [
    {code: 'shiliu_brand', label: '石榴花开'}, {code: 'study_publicity', label: '学习宣传'}, {code: 'brand_building', label: '品牌创建'},
    {code: 'livelihood', label: '民生与乡村振兴'}, {code: 'special_needs', label: '特殊群体帮扶'}, {code: 'exchange', label: '交往交流交融'},
  ],
  ethnicity: [
    {code: '01', label: '汉族'}, {code: '02', label: '蒙古族'}, {code: '03', label: '回族'}, {code: '04', label: '藏族'},
    {code: '05', label: '维吾尔族'}, {code: '06', label: '苗族'}, {code: '07', label: '彝族'}, {code: '08', label: '壮族'},
    {code: '09', label: '布依族'}, {code: '10', label: '朝鲜族'}, {code: '11', label: '满族'}, {code: '97', label: '其他'},
  ],
}

// The role of the five (measures §三) a record serves unless its author picks another: the server's
// defaults (record.DefaultRole), so the form shows what the server would store.
const VISIT_ROLES = {policy_publicity: 'policy_publicist', activity: 'activity_organizer', other: 'political_guide'}

/**
 * @param {string} kind
 * @param {string} [visitKind]
 * @returns {string}
 */
function defaultRole(kind, visitKind) {
  switch (kind) {
    case 'sentiment':
      return 'sentiment_liaison'
    case 'tip':
    case 'mediation':
      return 'stability_mediator'
    case 'visit':
      return VISIT_ROLES[visitKind || ''] || 'sentiment_liaison'
  }
  return 'political_guide'
}

function chars(s) {
  return Array.from(s || '').length
}

function isInt(v) {
  return typeof v === 'number' && Number.isInteger(v)
}

/**
 * Checks a record before it is queued. Returns {field: message}; empty when it may be sent.
 * `record` is the request body without client_id and attachments.
 */
function validate(kind, record, now) {
  const e = {}
  const t = now || Date.now()
  const title = (record.title || '').trim()
  if (!title) e.title = '请填写标题'
  else if (chars(title) > 40) e.title = '标题最多40个字'
  if (chars(record.place) > 100) e.place = '地点最多100个字'
  if (!record.occurred_at) e.occurred_at = '请选择发生时间'
  else {
    const at = Date.parse(record.occurred_at)
    if (isNaN(at)) e.occurred_at = '发生时间格式不对'
    else if (at > t + 5 * 60 * 1000) e.occurred_at = '发生时间不能晚于现在'
    else if (at < t - 366 * 24 * 3600 * 1000) e.occurred_at = '发生时间不能早于一年前'
  }
  const d = record[kind] || {}
  const need = (field, label, max) => {
    const v = (d[field] || '').trim()
    if (!v) e[kind + '.' + field] = '请填写' + label
    else if (max && chars(v) > max) e[kind + '.' + field] = label + '最多' + max + '个字'
  }
  const pick = (field, label) => {
    if (!d[field]) e[kind + '.' + field] = '请选择' + label
  }
  const max = (field, label, n) => {
    if (chars(d[field]) > n) e[kind + '.' + field] = label + '最多' + n + '个字'
  }
  const count = (field, label, hi) => {
    const v = d[field]
    if (v === undefined || v === null || v === '') return
    if (!isInt(v) || v < 0 || v > hi) e[kind + '.' + field] = label + '应为0到' + hi + '之间的整数'
  }
  switch (kind) {
    case 'visit':
      pick('visit_kind', '走访类型')
      count('households', '走访户数', 100000)
      count('people', '走访人数', 1000000)
      need('content', '走访内容', 2000)
      break
    case 'sentiment':
      pick('category', '类别')
      need('content', '民情内容', 2000)
      count('people_affected', '涉及人数', 1000000)
      pick('urgency', '紧急程度')
      max('suggestion', '意见建议', 1000)
      break
    case 'tip':
      pick('level', '风险等级')
      pick('kind', '线索类型')
      count('people_involved', '涉及人数', 1000000)
      max('groups_involved', '涉及群体', 200)
      need('description', '线索描述', 2000)
      break
    case 'mediation': {
      pick('dispute_kind', '纠纷类型')
      const parties = d.parties || []
      if (!parties.length) e['mediation.parties'] = '请至少添加一名当事人'
      else if (parties.length > 20) e['mediation.parties'] = '当事人最多20个'
      parties.forEach((p, i) => {
        if (!(p.name || '').trim()) e['mediation.parties'] = '请填写第' + (i + 1) + '名当事人的姓名'
        else if (!p.ethnicity) e['mediation.parties'] = '请选择第' + (i + 1) + '名当事人的民族'
        else if (!p.role) e['mediation.parties'] = '请选择第' + (i + 1) + '名当事人的角色'
      })
      need('process', '调解过程', 2000)
      pick('outcome', '调解结果')
      max('agreement', '调解协议', 2000)
      break
    }
    default:
      e.kind = '未知的记录类型'
  }
  return e
}

/** The JSON the record costs on the wire, in bytes (kept well under 4 KB in practice). */
function bodyBytes(body) {
  return utf8Length(JSON.stringify(body))
}

/** Beijing-time RFC 3339 for a Date (the server accepts any offset; this one reads well). */
function toBeijingISO(date) {
  const t = new Date(date.getTime() + 8 * 3600 * 1000)
  const p = n => (n < 10 ? '0' : '') + n
  return t.getUTCFullYear() + '-' + p(t.getUTCMonth() + 1) + '-' + p(t.getUTCDate()) + 'T' + p(t.getUTCHours()) + ':' +
    p(t.getUTCMinutes()) + ':' + p(t.getUTCSeconds()) + '+08:00'
}

/** "2024-05-01 09:30" from an RFC 3339 string, in Beijing time. */
function formatTime(iso) {
  if (!iso) return ''
  const ms = Date.parse(iso)
  if (isNaN(ms)) return ''
  const s = toBeijingISO(new Date(ms))
  return s.slice(0, 10) + ' ' + s.slice(11, 16)
}

function labelOf(list, code) {
  const hit = (list || []).find(c => c.code === code)
  return hit ? hit.label : ''
}

module.exports = {KINDS, KIND_ORDER, FALLBACK_DICTIONARIES, validate, bodyBytes, toBeijingISO, formatTime, labelOf, defaultRole}

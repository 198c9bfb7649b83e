// Server answers for page tests, complete as openapi.yaml describes them (spec/contract.test.js
// checks each builder against its schema, and the page tests check every exchange).
'use strict'
const {toBeijingISO, FALLBACK_DICTIONARIES} = require('../../miniprogram/utils/records')

const T0 = '2024-05-01T09:31:00+08:00'

function iso(msFromNow) {
  return toBeijingISO(new Date(Date.now() + msFromNow))
}

function error(status, code, message, details) {
  return {statusCode: status, data: {code, message, details: details || [], request_id: 'req-test-1'}}
}

function account(over) {
  return Object.assign({id: 3, role: 'instructor', display_name: '马明', region_code: '131028100000', instructor_id: 7}, over || {})
}

function staffAccount(over) {
  return Object.assign({id: 1, role: 'county_staff', username: 'dachang', display_name: '大厂县民宗局', region_code: '131028000000',
    on_duty: false}, over || {})
}

function tokens(user) {
  return {access_token: 'A', refresh_token: 'R', token_type: 'Bearer', expires_in: 3600, user: user || account()}
}

function unit(over) {
  return Object.assign({id: 1, name: '大厂镇政府', kind: 'township', kind_name: '乡镇', key_task: '宣传党的民族政策,做好民族团结进步创建工作',
    region_code: '131028100000', region_name: '大厂镇', address: '', active_instructors: 1, heavy: false, created_at: T0, updated_at: T0}, over || {})
}

function me(over) {
  return Object.assign({user: account(), unit: unit()}, over || {})
}

const EXTRA_DICTIONARIES = {
  unit_kind: [{code: 'township', label: '乡镇', key_task: '宣传党的民族政策'}],
  instructor_status: [{code: 'active', label: '在任'}],
  role: [{code: 'instructor', label: '指导员'}],
  record_kind: [{code: 'visit', label: '走访日志'}, {code: 'sentiment', label: '民情报告'}, {code: 'tip', label: '风险隐患线索'}, {code: 'mediation', label: '矛盾纠纷调解记录'}],
  escalation_level: [{code: 'city', label: '市级'}, {code: 'province', label: '省级'}],
  visit_status: [{code: 'submitted', label: '已提交'}],
  sentiment_status: [{code: 'open', label: '待处理'}],
  tip_status: [{code: 'submitted', label: '待签收'}],
  mediation_status: [{code: 'submitted', label: '已提交'}],
}

/** GET /api/v1/dictionaries, every required list; `over` replaces lists. */
function dictionaries(over) {
  return Object.assign({}, FALLBACK_DICTIONARIES, EXTRA_DICTIONARIES, over || {})
}

function counts(c) {
  const out = {visit: 0, sentiment: 0, tip: 0, mediation: 0}
  Object.assign(out, c || {})
  return out
}

/** GET /api/v1/me/summary */
function summary(month, year) {
  const m = counts(month)
  const y = counts(year)
  const total = o => o.visit + o.sentiment + o.tip + o.mediation
  return {month: {from: '2024-05-01T00:00:00+08:00', counts: m, total: total(m)},
    year: {from: '2024-01-01T00:00:00+08:00', counts: y, total: total(y)}}
}

function invitation(over) {
  return Object.assign({rsvp: 'none', rsvp_name: '未回复', rsvp_note: '', checkin_method: ''}, over || {})
}

const RSVP_NAMES = {none: '未回复', yes: '参加', no: '不参加', maybe: '待定'}

function meeting(over) {
  return Object.assign({id: 6, title: '五月例会', starts_at: iso(2 * 3600 * 1000), ends_at: iso(4 * 3600 * 1000), place: '县民宗局三楼',
    agenda: '学习民族政策', audience: 'county', audience_name: '全县指导员', region_code: '131028000000', region_name: '大厂回族自治县',
    status: 'upcoming', status_name: '未开始', cancel_reason: '', invitee_count: 12, checkin_open: false, location_checkin: false,
    mine: invitation(), created_at: T0, updated_at: T0}, over || {})
}

/** What POST /rsvp answers: the meeting with my answer. */
function rsvped(m, answer, note) {
  return Object.assign({}, m, {mine: invitation(Object.assign({}, m.mine, {rsvp: answer, rsvp_name: RSVP_NAMES[answer],
    rsvp_note: note || '', rsvp_at: iso(0)}))})
}

/** What POST /checkin answers. */
function checkedIn(m, method) {
  return Object.assign({}, m, {mine: invitation(Object.assign({}, m.mine, {checked_in_at: iso(0), checkin_method: method || 'qr'}))})
}

function checkinToken(id, n) {
  const token = (n || 1714527000) + '.sig' + (id || 6) + 'abc_DEF-' + (n || 0)
  return {meeting_id: id || 6, token, qr_payload: 'shiliu://meetings/' + (id || 6) + '/checkin?token=' + token,
    expires_at: iso(45000), refresh_at: iso(15000)}
}

function attendance(over) {
  return Object.assign({meeting_id: 6, status: 'ongoing', invited: 12, rsvp: {yes: 8, no: 1, maybe: 1, none: 2}, checked_in: 5,
    attendance_rate: 5 / 12, items: [{instructor_id: 7, name: '马明', unit_id: 1, unit_name: '大厂镇政府', rsvp: 'yes', rsvp_name: '参加',
      rsvp_note: '', checked_in_at: iso(-60000), checkin_method: 'qr', checkin_doubt: ''},
    {instructor_id: 8, name: '张华', unit_id: 2, unit_name: '夏垫镇政府', rsvp: 'yes', rsvp_name: '参加', rsvp_note: '',
      checked_in_at: iso(-30000), checkin_method: 'location', checkin_distance_m: 0, checkin_latitude: 39.88, checkin_longitude: 116.98,
      checkin_doubt: '上报位置与会场坐标完全相同,可能是复制的坐标'}]}, over || {})
}

function bulletin(over) {
  return Object.assign({id: 8, title: '五月工作简报', summary: '本月全县开展民族团结进步创建活动……', status: 'published', status_name: '已发布',
    publish_at: T0, published_at: T0, region_code: '131028000000', region_name: '大厂回族自治县',
    scope: [{code: '131028000000', name: '大厂回族自治县'}], read: false, created_at: T0, version: 1}, over || {})
}

/** GET /api/v1/bulletins/{id}: with body and attachments; opening it records the read. */
function bulletinDetail(over) {
  return bulletin(Object.assign({body: '## 一、工作进展\n\n本月全县开展民族团结进步创建活动。\n\n**请各位指导员**认真学习。', attachments: [],
    read: true, read_at: iso(0)}, over || {}))
}

function upload(id, over) {
  return Object.assign({id, kind: 'image', mime: 'image/jpeg', size: 81234, name: 'photo.jpg',
    url: '/api/v1/files/' + id + '?exp=1714527000&sig=abcDEF_123-x', url_expires_at: '2024-05-01T09:40:00+08:00'}, over || {})
}

const KIND_FIELDS = {
  visit: {visit_kind: 'home_visit', visit_kind_name: '入户走访', households: 3, people: 8, ethnicities: ['03'], ethnicity_names: ['回族'],
    content: '走访了三户回族群众', follow_up_needed: false},
  sentiment: {category: 'employment', category_name: '就业创业', content: '群众希望增加就业培训', people_affected: 20, urgency: 'normal',
    urgency_name: '一般', suggestion: '', forwarded_to: '', answer: ''},
  tip: {level: 'serious', level_name: '较大', kind: 'sign', kind_name: '苗头性', people_involved: 10, groups_involved: '',
    description: '有人在村口聚集', ongoing: true, escalated_to: '', escalated_to_name: '', ack_deadline: '2024-05-02T09:31:00+08:00'},
  mediation: {dispute_kind: 'neighborhood', dispute_kind_name: '邻里纠纷', parties: [{name: '张三', ethnicity: '01', ethnicity_name: '汉族',
    role: 'applicant', role_name: '申请人'}], process: '双方协商', outcome: 'settled', outcome_name: '调解成功', settled: true, agreement: '',
  followups: []},
}
const KIND_NAMES = {visit: '走访日志', sentiment: '民情报告', tip: '风险隐患线索', mediation: '矛盾纠纷调解记录'}

/** A record as the server sends it; `over.tip` (or the kind's object) is merged into the defaults. */
// The role a record of each kind serves by default (a visit: of its default kind, a home visit).
const DEFAULT_ROLES = {visit: ['sentiment_liaison', '民情联络员'], sentiment: ['sentiment_liaison', '民情联络员'],
  tip: ['stability_mediator', '维稳调解员'], mediation: ['stability_mediator', '维稳调解员']}

function record(over) {
  const o = over || {}
  const kind = o.kind || 'tip'
  const base = {
    id: 1, kind, kind_name: KIND_NAMES[kind], client_id: '3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17', title: '村口聚集',
    status: 'submitted', status_name: kind === 'sentiment' ? '待处理' : (kind === 'tip' ? '待签收' : '已提交'),
    occurred_at: iso(-3600 * 1000), received_at: T0, updated_at: T0, place: '大厂镇', author_id: 7, author_name: '马明', unit_id: 1,
    unit_name: '大厂镇政府', region_code: '131028100000', region_name: '大厂镇', version: 1, editable: true, attachments: [],
    role: DEFAULT_ROLES[kind][0], role_name: DEFAULT_ROLES[kind][1], tags: [], tag_names: [],
  }
  if (kind === 'sentiment') base.status = 'open'
  const out = Object.assign(base, o)
  out[kind] = Object.assign({}, KIND_FIELDS[kind], o[kind] || {})
  if (kind === 'tip' && out.status !== 'submitted') delete out.tip.ack_deadline
  return out
}

function timelineStep(over) {
  return Object.assign({id: 1, action: 'submit', action_name: '提交', from_status: '', to_status: 'submitted', note: '', data: {},
    actor: {account_id: 3, role: 'instructor', name: '马明'}, created_at: T0}, over || {})
}

function page(items, next) {
  return {items, next_cursor: next || ''}
}

function regions(parentLevel, list) {
  return page(list.map(([code, name]) => ({code, name, level: parentLevel})))
}

function nomination(over) {
  return Object.assign({id: 11, source: 'self_nomination', source_name: '个人自荐', status: 'pending', status_name: '待审核',
    name: '李华', gender: 'female', gender_name: '女', ethnicity: '03', ethnicity_name: '回族', phone: '13912345678',
    source_category: 'minority_representative', source_category_name: '少数民族群众代表', unit_name: '大厂镇政府',
    region_code: '131028100000', region_name: '大厂镇', statement: '', recommender: '', criteria: [], all_criteria_met: false,
    review_note: '', created_at: T0, updated_at: T0}, over || {})
}

function subscriptions(items) {
  return page((items || []).map(t => Object.assign({template_id: 'TPL', events: ['tip.acknowledged'], kind: 'one_time', remaining: 1,
    status: 'active', usable: true, updated_at: T0}, t)))
}

/** My state on a task (TaskAssignee as `mine`: no name, no unit name). */
function assignee(over) {
  return Object.assign({instructor_id: 7, unit_id: 1, region_code: '131028100000', state: 'assigned', state_name: '未开始',
    overdue: false, report_count: 0}, over || {})
}

const TASK_STATE_NAMES = {assigned: '未开始', in_progress: '进行中', done: '已完成'}

/** A task as an instructor gets it in the list; `over.mine` is merged into my state. */
function task(over) {
  const o = over || {}
  const mine = assignee(Object.assign(o.mine && o.mine.state ? {state_name: TASK_STATE_NAMES[o.mine.state]} : {}, o.mine || {}))
  return Object.assign({id: 12, title: '排查辖区矛盾纠纷', description: '请于月底前走访辖区各村,排查矛盾纠纷并反馈。',
    due_at: iso(3 * 24 * 3600 * 1000), overdue: false, region_code: '131028000000', region_name: '大厂回族自治县',
    assignee_count: 20, created_at: T0, updated_at: T0}, o, {mine})
}

/** GET /api/v1/tasks/{id}: with its attachments. */
function taskDetail(over) {
  return task(Object.assign({attachments: []}, over || {}))
}

function taskReport(over) {
  return Object.assign({id: 40, task_id: 12, instructor_id: 7, instructor_name: '马明', text: '已走访东关村、西关村', done: false,
    attachments: [], created_at: T0}, over || {})
}

/** My enrolment (TrainingEnrolment as `mine`: name and unit name empty). */
function enrolment(over) {
  return Object.assign({instructor_id: 7, name: '', unit_id: 1, unit_name: '', region_code: '131028100000', status: 'attended',
    status_name: '已参加', hours: 3.5, recorded_at: T0, enrolled_at: T0}, over || {})
}

function trainingSession(over) {
  const o = over || {}
  return Object.assign({id: 3, year: 2024, title: '民族政策专题培训', topic: '铸牢中华民族共同体意识', lecturer: '王教授',
    topics: ['ethnic_theory_policy', 'laws_regulations'], topic_names: ['民族理论政策', '法律法规'],
    method: 'lecture', method_name: '专家授课', mode: 'offline', mode_name: '线下', place: '市委党校报告厅', url: '',
    starts_at: '2024-05-10T09:00:00+08:00', ends_at: '2024-05-10T12:30:00+08:00', hours: 3.5, region_code: '131000000000',
    region_name: '廊坊市', enrolled: 40, attended: 36, created_at: T0, updated_at: T0}, o, {mine: enrolment(o.mine)})
}

/** GET /api/v1/me/training: totals are computed from the sessions as the server does. */
function myTraining(year, items) {
  const attended = (items || []).filter(s => s.mine.status === 'attended')
  return {year, sessions: attended.length, hours: Math.round(attended.reduce((h, s) => h + s.mine.hours, 0) * 10) / 10, items: items || []}
}

/** A suggestion as the server sends it (answered when over.answer is given). */
function suggestion(over) {
  const o = over || {}
  const answered = !!o.answer
  return Object.assign({id: 21, client_id: '3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17', instructor_id: 7, instructor_name: '马明', unit_id: 1,
    unit_name: '西山村', region_code: '131028100000', county_code: '131028000000', county_name: '大厂回族自治县',
    content: '建议县里统一印制民族政策宣传手册', status: answered ? 'answered' : 'submitted', status_name: answered ? '已答复' : '待答复',
    answer: '', answered_at: answered ? T0 : null, created_at: T0, updated_at: T0}, o)
}

/** An experience share as the server sends it (another instructor's, approved, unless over says). */
function share(over) {
  return Object.assign({id: 41, title: '入户走访的三点体会', text: '一、提前了解户情。\n二、用群众听得懂的话讲政策。', attachments: [],
    audience: 'county', audience_name: '本县(市、区)指导员', audience_code: '131028000000', audience_region: '大厂回族自治县',
    status: 'approved', status_name: '已通过', instructor_id: 8, instructor_name: '李华', unit_name: '东关村',
    region_code: '131028100000', region_name: '大厂镇', mine: false, can_review: false, created_at: T0}, over || {})
}

module.exports = {
  T0, iso, error, account, staffAccount, tokens, unit, me, dictionaries, summary, meeting, rsvped, checkedIn, checkinToken,
  attendance, bulletin, bulletinDetail, upload, record, timelineStep, page, regions, nomination, subscriptions, invitation,
  assignee, task, taskDetail, taskReport, enrolment, trainingSession, myTraining, suggestion, share,
}

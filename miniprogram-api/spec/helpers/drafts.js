// The drafts of the integration test and the field measurement: the four kinds in turn, with
// short texts an instructor would type on a phone.
'use strict'
const {toBeijingISO} = require('../../miniprogram/utils/records')

/** The record a draft holds, for each kind in turn. */
function draftRecord(i) {
  const kind = ['visit', 'sentiment', 'tip', 'mediation'][i % 4]
  const record = {title: '第' + (i + 1) + '条现场记录', occurred_at: toBeijingISO(new Date(Date.now() - (60 - i) * 60000)), place: '大厂镇东关村'}
  if (kind === 'visit') record.visit = {visit_kind: 'home_visit', households: 2, people: 5, ethnicities: ['03'], content: '入户走访,宣传民族政策', follow_up_needed: false}
  if (kind === 'sentiment') record.sentiment = {category: 'livelihood', content: '群众反映灌溉用水紧张', people_affected: 30, urgency: 'normal', suggestion: ''}
  if (kind === 'tip') record.tip = {level: 'general', kind: 'sign', people_involved: 6, groups_involved: '', description: '村口有人争执', ongoing: false}
  if (kind === 'mediation') record.mediation = {dispute_kind: 'neighborhood', parties: [{name: '张三', ethnicity: '01', role: 'applicant'}], process: '双方协商一致', outcome: 'settled', agreement: ''}
  return {kind, record}
}

module.exports = {draftRecord}

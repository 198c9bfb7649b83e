'use strict'
// What one record costs on the wire as JSON: the body the app really sends (the form's record(),
// then the outbox adds client_id and the photos' upload client_ids, attachment_client_ids), checked against openapi.yaml and kept
// well under 4 KB for a realistic record. A 2G link moves about 6 KB a second: the photo, not the
// text, is what an instructor waits for (docs/field-conditions.md).
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, assertContract} = require('./helpers/app')
const F = require('./helpers/fixtures')
const {toBeijingISO} = require('../miniprogram/utils/records')

const LIMIT = 4096
const TYPICAL = 2048 // "well under": half the limit

/** n Chinese characters of plausible text (3 bytes each in UTF-8). */
function zh(n) {
  const s = '村里群众反映近期灌溉用水紧张,希望协调解决。指导员入户走访了解情况,做好政策宣传和矛盾化解工作。'
  let out = ''
  while (Array.from(out).length < n) out += s
  return Array.from(out).slice(0, n).join('')
}

const FORMS = {
  visit: {title: '入户走访回族群众', visit: {visit_kind: 'home_visit', households: 5, people: 12, ethnicities: ['03', '01'], content: zh(300), follow_up_needed: true}},
  sentiment: {title: '群众反映灌溉用水紧张', sentiment: {category: 'livelihood', content: zh(300), people_affected: 80, urgency: 'urgent', suggestion: zh(100)}},
  tip: {title: '村口有人聚集情绪激动', tip: {level: 'serious', kind: 'sign', people_involved: 25, groups_involved: '部分村民', description: zh(300), ongoing: true}},
  mediation: {title: '宅基地边界纠纷调解', mediation: {dispute_kind: 'housing', parties: [
    {name: '马建国', ethnicity: '03', role: 'applicant'}, {name: '张永福', ethnicity: '01', role: 'respondent'}],
  process: zh(300), outcome: 'settled', agreement: zh(100)}},
}

const MAX_TEXT = {
  visit: {content: 2000}, sentiment: {content: 2000, suggestion: 1000}, tip: {description: 2000, groups_involved: 200},
  mediation: {process: 2000, agreement: 2000},
}

describe('a record on the wire', () => {
  let env
  let sent
  beforeEach(() => {
    env = setup()
    sent = []
    env.fake.networkType = 'none'
    env.fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/dictionaries') return {statusCode: 200, data: F.dictionaries()}
      if (p === '/api/v1/uploads') return {statusCode: 201, data: F.upload(40 + sent.length)}
      const m = p.match(/^\/api\/v1\/(visits|sentiments|tips|mediations)$/)
      if (m && req.method === 'POST') {
        sent.push(req)
        const kind = {visits: 'visit', sentiments: 'sentiment', tips: 'tip', mediations: 'mediation'}[m[1]]
        return {statusCode: 201, data: F.record({kind, client_id: req.data.client_id, title: req.data.title})}
      }
      return F.error(404, 'not_found', '内容不存在')
    }
  })
  afterEach(() => assertContract(env))

  for (const kind of Object.keys(FORMS)) {
    it(kind + ': the body the app sends matches the contract and is well under 4 KB', async () => {
      const page = sim.render('pages/record-form/index')
      await page.instance.onLoad({kind})
      await flush(3)
      const f = FORMS[kind]
      const form = Object.assign({}, page.data.form, {title: f.title, place: '大厂回族自治县大厂镇东关村', latitude: 39.886, longitude: 116.989})
      form[kind] = Object.assign({}, page.data.form[kind], f[kind])
      const at = toBeijingISO(new Date(Date.now() - 3600000))
      page.setData({form, date: at.slice(0, 10), time: at.slice(11, 16),
        attachments: [{path: 'wxfile://store/p1.jpg', type: 'image', size: 80000}]})
      page.instance.onSubmit()
      assert.deepEqual(page.data.errors, {})
      env.fake.networkType = 'wifi'
      await env.outbox.flush({force: true})
      assert.equal(sent.length, 1)
      const body = JSON.stringify(sent[0].data)
      const bytes = Buffer.byteLength(body, 'utf8')
      // text first: the photo is declared by its upload client_id and goes after the record
      assert.ok(sent[0].data.client_id && Array.isArray(sent[0].data.attachments) && sent[0].data.attachments.length === 0)
      assert.ok(Array.isArray(sent[0].data.attachment_client_ids) && sent[0].data.attachment_client_ids.length === 1)
      assert.ok(bytes < TYPICAL, kind + ': ' + bytes + ' bytes')
      // what is not the instructor's own words (keys, codes, ids, times) stays small
      const text = [f.title, '大厂回族自治县大厂镇东关村'].concat(Object.values(f[kind]).filter(v => typeof v === 'string' && v.length > 4))
      const words = text.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0)
      assert.ok(bytes - words < 700, kind + ': ' + (bytes - words) + ' bytes of structure')
      console.log('record JSON, ' + kind + ': ' + bytes + ' bytes (' + (bytes - words) + ' structure + ' + words + ' text)')
      page.detach()
    })
  }

  it('only the longest texts the fields allow can pass 4 KB (Chinese is 3 bytes a character)', () => {
    for (const kind of Object.keys(MAX_TEXT)) {
      const body = Object.assign({client_id: '3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17', title: zh(40), occurred_at: F.iso(0), place: zh(100),
        latitude: 39.886, longitude: 116.989, attachments: [1, 2, 3, 4, 5, 6, 7, 8, 9]}, {[kind]: Object.assign({}, FORMS[kind][kind])})
      Object.keys(MAX_TEXT[kind]).forEach(k => { body[kind][k] = zh(MAX_TEXT[kind][k]) })
      const bytes = Buffer.byteLength(JSON.stringify(body), 'utf8')
      assert.ok(bytes > LIMIT, kind)
      console.log('largest ' + kind + ' the server accepts: ' + bytes + ' bytes')
    }
  })
})

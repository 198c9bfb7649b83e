'use strict'
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, recordView, assertContract} = require('./helpers/app')
const config = require('../miniprogram/config')
const F = require('./helpers/fixtures')

async function openForm(query) {
  const page = sim.render('pages/record-form/index')
  await page.instance.onLoad(query)
  await flush(5)
  return page
}

function change(page, sel, detail) {
  const node = page.querySelector(sel)
  assert.ok(node, sel + ' rendered')
  node.dispatchEvent('change', {detail})
}

function api(req) {
  const p = pathOf(req)
  if (p === '/api/v1/dictionaries') {
    return {statusCode: 200, data: F.dictionaries({
      tip_level: [{code: 'general', label: '一般'}, {code: 'serious', label: '较大'}],
      tip_kind: [{code: 'tendency', label: '倾向性'}, {code: 'sign', label: '苗头性'}]})}
  }
  if (p === '/api/v1/subscriptions') return {statusCode: 200, data: F.subscriptions([{template_id: 'TPL-ACK'}])}
  return F.error(404, 'not_found', '内容不存在')
}

describe('record form (tip)', () => {
  let env
  beforeEach(() => {
    env = setup()
    env.fake.networkType = 'none' // keep the outbox from sending while we look
    env.fake.handler = api
  })
  afterEach(() => assertContract(env))

  it("renders the tip's fields with the server's code lists", async () => {
    const page = await openForm({kind: 'tip'})
    assert.equal(page.data.kind, 'tip')
    for (const id of ['#f-title', '#f-level', '#f-tip-kind', '#f-description', '#f-involved', '#add-photo', '#record-voice', '#submit']) {
      assert.ok(page.querySelector(id), id)
    }
    assert.equal(page.querySelector('#f-households'), undefined, 'no visit fields')
    assert.deepEqual(page.data.dict.tip_level.map(c => c.label), ['一般', '较大'])
    assert.match(page.dom.textContent, /线索描述/)
  })

  it('validates before saving: marks each missing field and sends nothing', async () => {
    const page = await openForm({kind: 'tip'})
    page.querySelector('#submit').dispatchEvent('click')
    await flush(3)
    assert.deepEqual(Object.keys(page.data.errors).sort(), ['tip.description', 'tip.kind', 'tip.level', 'title'])
    assert.equal(page.data.errorCount, 4)
    assert.match(sim.text(page, '#form-errors'), /还有4处需要填写或修改/)
    assert.match(page.querySelector('#f-title').dom.textContent, /请填写标题/)
    assert.match(page.querySelector('#f-description').dom.textContent, /请填写线索描述/)
    assert.equal(env.outbox.list().length, 0, 'nothing saved')
    assert.equal(env.fake.toasts[0].title, '请检查标红的内容')
    // a count that is not a number is caught too
    change(page, '#f-involved', '十几个')
    await flush(2)
    page.instance.onSubmit()
    assert.equal(page.data.errors['tip.people_involved'], '涉及人数应为0到1000000之间的整数')
  })

  it('a filled form goes to the outbox with a client_id, photo and place, and asks for the subscribe messages', async () => {
    Object.assign(config.templates, {tip_acknowledged: 'TPL-ACK', record_returned: 'TPL-RET'})
    const asked = []
    const ask = env.fake.requestSubscribeMessage
    env.fake.requestSubscribeMessage = r => {
      asked.push(r.tmplIds)
      ask(r)
    }
    try {
      const page = await openForm({kind: 'tip'})
      change(page, '#f-title', '村口有人聚集')
      page.querySelector('#f-level').dispatchEvent('change', {detail: {value: 1}})
      page.querySelector('#f-tip-kind').dispatchEvent('change', {detail: {value: 1}})
      change(page, '#f-description', '晚上八点左右二十多人聚集,情绪激动')
      change(page, '#f-involved', '20')
      await flush(3)
      assert.equal(page.data.shown.tip_level, '较大')
      // clearing an error as the field is filled
      await page.instance.onAddPhoto()
      await page.instance.onChooseLocation()
      await flush(3)
      assert.equal(page.data.attachments.length, 1)
      assert.equal(page.data.attachments[0].path, 'wxfile://store/photo1.jpg', 'the photo was saved out of the temp folder')
      assert.equal(page.data.form.place, '大厂镇政府')
      page.querySelector('#submit').dispatchEvent('click')
      await flush(10)
      assert.deepEqual(page.data.errors, {})
      const items = env.outbox.list()
      assert.equal(items.length, 1)
      const it = items[0]
      assert.equal(it.state, 'queued')
      assert.equal(it.kind, 'tip')
      assert.match(it.client_id, /^[0-9a-f-]{36}$/)
      assert.deepEqual(it.record.tip, {level: 'serious', kind: 'sign', people_involved: 20, groups_involved: '',
        description: '晚上八点左右二十多人聚集,情绪激动', ongoing: false})
      assert.equal(it.record.latitude, 39.88)
      assert.match(it.record.occurred_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\+08:00$/)
      assert.deepEqual(it.attachments.map(a => a.path), ['wxfile://store/photo1.jpg'])
      assert.deepEqual(env.fake.navigations, ['/pages/records/index'])
      assert.deepEqual(asked, [['TPL-ACK', 'TPL-RET']], 'acknowledged, and returned for correction')
      const sub = env.fake.requests.find(r => pathOf(r) === '/api/v1/subscriptions')
      assert.deepEqual(sub.data, {results: {'TPL-ACK': 'accept', 'TPL-RET': 'accept'}})
    } finally {
      Object.assign(config.templates, {tip_acknowledged: '', record_returned: ''})
    }
  })

  it('every kind asks at 提交, from the tap, to be told when the record is returned (a sentiment report: answered too)', async () => {
    Object.assign(config.templates, {tip_acknowledged: 'TPL-ACK', record_returned: 'TPL-RET', sentiment_answered: 'TPL-ANS'})
    const asked = []
    env.fake.requestSubscribeMessage = r => {
      asked.push(r.tmplIds)
      setImmediate(() => r.success({errMsg: 'requestSubscribeMessage:ok'}))
    }
    try {
      const filled = {
        visit: {'form.visit.visit_kind': 'home_visit', 'form.visit.content': '入户走访'},
        sentiment: {'form.sentiment.category': 'employment', 'form.sentiment.content': '希望增加就业培训', 'form.sentiment.urgency': 'normal'},
        mediation: {'form.mediation.dispute_kind': 'neighborhood', 'form.mediation.parties': [{name: '张三', ethnicity: '01', role: 'applicant'}],
          'form.mediation.process': '双方协商', 'form.mediation.outcome': 'settled'},
      }
      for (const kind of Object.keys(filled)) {
        const page = await openForm({kind})
        page.instance.onSubmit()
        await flush(2)
        assert.ok(Object.keys(page.data.errors).length > 0)
        assert.equal(asked.length, 0, kind + ': a form that does not pass the checks asks nothing')
        page.instance.setData(Object.assign({'form.title': '标题'}, filled[kind]))
        page.instance.onSubmit()
        assert.deepEqual(page.data.errors, {}, kind)
        assert.deepEqual(asked.splice(0), [kind === 'sentiment' ? ['TPL-ANS', 'TPL-RET'] : ['TPL-RET']], kind + ': asked within the tap')
        await flush(5)
        page.detach()
      }
      assert.equal(env.outbox.list().length, 3)
    } finally {
      Object.assign(config.templates, {tip_acknowledged: '', record_returned: '', sentiment_answered: ''})
    }
  })

  it('a large photo is compressed again before it is kept (a 2G link moves about 6 KB a second)', async () => {
    env.fake.mediaFiles = [{tempFilePath: 'http://tmp/big.jpg', size: 420000, fileType: 'image'},
      {tempFilePath: 'http://tmp/small.jpg', size: 80000, fileType: 'image'}]
    const page = await openForm({kind: 'tip'})
    await page.instance.onAddPhoto()
    await flush(3)
    assert.deepEqual(env.fake.compressed, ['http://tmp/big.jpg'])
    assert.deepEqual(page.data.attachments.map(a => [a.path, a.size]),
      [['wxfile://store/big-small.jpg', 90000], ['wxfile://store/small.jpg', 80000]])
  })

  it('records a voice note with the recorder', async () => {
    const page = await openForm({kind: 'tip'})
    page.instance.onToggleRecord()
    assert.equal(page.data.recording, true)
    assert.equal(env.fake.recording, true)
    page.instance.onToggleRecord()
    await flush(5)
    assert.equal(page.data.recording, false)
    assert.deepEqual(page.data.attachments.map(a => [a.type, a.seconds]), [['audio', 5]])
  })

  it('a returned record loads from the server with the staff note, and is saved for resubmission', async () => {
    env.fake.handler = req => {
      if (pathOf(req) === '/api/v1/tips/9') {
        return {statusCode: 200, data: recordView({id: 9, status: 'returned', status_name: '已退回修改', return_note: '请补充涉及人数',
          attachments: [F.upload(77)]})}
      }
      return api(req)
    }
    const page = await openForm({kind: 'tip', server_id: '9'})
    assert.equal(page.data.returnNote, '请补充涉及人数')
    assert.match(sim.text(page, '#return-note'), /请补充涉及人数/)
    assert.equal(page.data.form.tip.description, '有人在村口聚集')
    assert.equal(page.data.shown.tip_level, '较大')
    change(page, '#f-involved', '35')
    await flush(2)
    page.instance.onSubmit()
    const it = env.outbox.list()[0]
    assert.equal(it.mode, 'resubmit')
    assert.equal(it.server_id, 9)
    assert.equal(it.record.tip.people_involved, 35)
    assert.deepEqual(it.attachments.map(a => Object.assign({}, a, {client_id: typeof a.client_id})),
      [{path: '', type: 'image', size: 0, duration: 0, upload_id: 77, client_id: 'string'}])
  })

  it('the role of the five (§三) defaults by kind and visit type, follows the visit type until picked; tags are chosen by tapping', async () => {
    const page = await openForm({kind: 'visit'})
    assert.ok(page.querySelector('#f-role'), 'a role picker')
    assert.deepEqual(page.data.tagChoices.map(c => c.label), ['石榴花开', '学习宣传', '品牌创建', '民生与乡村振兴', '特殊群体帮扶', '交往交流交融'])
    // 政策宣传 → 政策宣传员, 组织活动 → 活动组织员
    page.querySelector('#f-visit-kind').dispatchEvent('change', {detail: {value: 0}})
    await flush(2)
    assert.equal(page.data.form.role, 'policy_publicist')
    assert.match(sim.text(page, '#f-role'), /政策宣传员/)
    assert.match(sim.text(page, '#f-role'), /按记录类型默认/)
    page.querySelector('#f-visit-kind').dispatchEvent('change', {detail: {value: 3}})
    await flush(2)
    assert.equal(page.data.shown.instructor_role, '活动组织员')
    // picked: it stays whatever the visit type
    page.querySelector('#f-role').dispatchEvent('change', {detail: {value: 0}})
    await flush(2)
    assert.equal(page.data.roleChosen, true)
    page.querySelector('#f-visit-kind').dispatchEvent('change', {detail: {value: 4}})
    await flush(2)
    assert.equal(page.data.form.role, 'political_guide')
    assert.match(sim.text(page, '#f-role'), /政治引领员/)
    // tags: several, each once, in the list's order; a second tap takes one off
    for (const code of ['exchange', 'shiliu_brand', 'livelihood', 'livelihood']) {
      page.querySelector('#tag-' + code).dispatchEvent('tap')
      await flush(1)
    }
    assert.deepEqual(page.data.form.tags, ['shiliu_brand', 'exchange'])
    assert.ok(page.querySelector('#tag-shiliu_brand.on'))
    assert.equal(page.querySelector('#tag-livelihood.on'), undefined)
    change(page, '#f-title', '石榴花开进村')
    change(page, '#f-content', '组织各族群众共度节日')
    await flush(2)
    page.querySelector('#submit').dispatchEvent('click')
    await flush(5)
    const it = env.outbox.list()[0]
    assert.equal(it.record.role, 'political_guide')
    assert.deepEqual(it.record.tags, ['shiliu_brand', 'exchange'])
    assert.equal(it.record.visit.visit_kind, 'home_visit')
  })

  it('a tip is sent with the default role, 维稳调解员, and no tags', async () => {
    const page = await openForm({kind: 'tip'})
    assert.equal(page.data.shown.instructor_role, '维稳调解员')
    page.instance.setData({'form.title': '村口聚集', 'form.tip.level': 'general', 'form.tip.kind': 'sign', 'form.tip.description': '有人聚集'})
    page.instance.onSubmit()
    await flush(5)
    const it = env.outbox.list()[0]
    assert.equal(it.record.role, 'stability_mediator')
    assert.deepEqual(it.record.tags, [])
  })

  it("a returned record keeps its role and tags; a draft's default role still follows the visit type", async () => {
    env.fake.handler = req => {
      if (pathOf(req) === '/api/v1/tips/9') {
        return {statusCode: 200, data: recordView({id: 9, status: 'returned', status_name: '已退回修改', return_note: '请改正',
          role: 'sentiment_liaison', role_name: '民情联络员', tags: ['livelihood'], tag_names: ['民生与乡村振兴']})}
      }
      return api(req)
    }
    let page = await openForm({kind: 'tip', server_id: '9'})
    assert.equal(page.data.roleChosen, true)
    assert.equal(page.data.shown.instructor_role, '民情联络员')
    assert.ok(page.querySelector('#tag-livelihood.on'))
    page.instance.onSubmit()
    let it = env.outbox.list()[0]
    assert.equal(it.record.role, 'sentiment_liaison')
    assert.deepEqual(it.record.tags, ['livelihood'])
    page.detach()

    const draft = env.outbox.saveDraft({kind: 'visit', record: {title: '草稿', occurred_at: '2024-05-01T09:00:00+08:00', place: '',
      role: 'policy_publicist', tags: [], visit: {visit_kind: 'policy_publicity', content: '宣讲'}}, attachments: []})
    page = await openForm({kind: 'visit', client_id: draft.client_id})
    assert.equal(page.data.roleChosen, false, 'the role of the draft is the default')
    page.querySelector('#f-visit-kind').dispatchEvent('change', {detail: {value: 3}})
    await flush(2)
    assert.equal(page.data.form.role, 'activity_organizer')
  })

  it('a mediation needs at least one complete party', async () => {
    const page = await openForm({kind: 'mediation'})
    page.querySelector('#submit').dispatchEvent('click')
    await flush(2)
    assert.equal(page.data.errors['mediation.parties'], '请至少添加一名当事人')
    page.querySelector('#add-party').dispatchEvent('click')
    await flush(2)
    page.instance.onParty({currentTarget: {dataset: {index: 0, key: 'name'}}, detail: '张三'})
    page.instance.onSubmit()
    assert.equal(page.data.errors['mediation.parties'], '请选择第1名当事人的民族')
  })
})

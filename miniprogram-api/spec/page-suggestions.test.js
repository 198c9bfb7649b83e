'use strict'
// My suggestions: the list with the county's answers, a new suggestion sent with a client_id that
// a retry reuses, and the one a message opens shown first.
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, assertContract} = require('./helpers/app')
const {UUID_RE} = require('../miniprogram/outbox/uuid')
const config = require('../miniprogram/config')
const F = require('./helpers/fixtures')

describe('my suggestions', () => {
  let env
  let listed
  let posts
  let postAnswer
  beforeEach(() => {
    env = setup()
    listed = [F.suggestion({id: 21, answer: '已安排县民宗局统一印制,下月发放。', answered_at: '2024-05-03T10:00:00+08:00'}),
      F.suggestion({id: 20, content: '希望增加外出考察学习的机会'})]
    posts = []
    postAnswer = req => ({statusCode: 201, data: F.suggestion({id: 30, client_id: req.data.client_id, content: req.data.content})})
    env.fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/suggestions' && req.method === 'POST') {
        posts.push(req.data)
        return postAnswer(req)
      }
      if (p === '/api/v1/suggestions') return {statusCode: 200, data: F.page(listed)}
      if (p === '/api/v1/suggestions/9') return {statusCode: 200, data: F.suggestion({id: 9, content: '较早的建议', answer: '已答复'})}
      if (p === '/api/v1/subscriptions') return {statusCode: 200, data: F.subscriptions([{}])}
      return F.error(404, 'suggestion_not_found', '意见建议不存在或不在您的范围内')
    }
  })
  afterEach(() => assertContract(env))

  async function open(query) {
    const page = sim.render('pages/suggestions/index')
    await page.instance.onLoad(query || {})
    await flush(5)
    return page
  }

  function type(page, text) {
    const field = page.querySelector('#f-content')
    assert.ok(field, 'the form is rendered')
    field.dispatchEvent('change', {detail: text})
  }

  it('lists my suggestions with the county\'s answers; the unanswered wait', async () => {
    const page = await open()
    assert.match(sim.text(page, '#suggestion-21'), /已答复.*建议县里统一印制民族政策宣传手册.*大厂回族自治县民族工作部门答复\(2024-05-03 10:00\).*已安排县民宗局统一印制/)
    assert.match(sim.text(page, '#suggestion-20'), /待答复.*希望增加外出考察学习的机会/)
    assert.doesNotMatch(sim.text(page, '#suggestion-20'), /答复\(/)
    assert.deepEqual(env.fake.requests.map(r => r.url.replace(/^https:\/\/api\.test/, '')), ['/api/v1/suggestions?limit=20'])
  })

  it('sends a new one with a client_id, asks from the tap for the answer\'s notice, and shows it first', async () => {
    config.templates.suggestion_answered = 'TPL-SA'
    try {
      const page = await open()
      type(page, '  建议为指导员配发工作证  ')
      page.querySelector('#submit').dispatchEvent('click')
      await flush(8)
      assert.equal(posts.length, 1)
      assert.match(posts[0].client_id, UUID_RE)
      assert.equal(posts[0].content, '建议为指导员配发工作证')
      assert.deepEqual(env.fake.requests.find(r => pathOf(r) === '/api/v1/subscriptions').data, {results: {'TPL-SA': 'accept'}})
      assert.equal(page.data.items[0].id, 30)
      assert.equal(page.data.content, '')
      assert.equal(env.fake.getStorageSync('suggestion_draft'), '', 'nothing left on the phone')
      assert.ok(env.fake.toasts.some(t => t.title === '已提交'))
    } finally {
      config.templates.suggestion_answered = ''
    }
  })

  it('a send lost on the network keeps the text on the phone; the retry reuses the client_id and the server\'s stored one shows once', async () => {
    postAnswer = () => ({fail: 'timeout'})
    let page = await open()
    type(page, '建议定期通报辖区民族工作情况')
    page.querySelector('#submit').dispatchEvent('click')
    await flush(8)
    assert.match(sim.text(page, '#send-error'), /内容已保存在手机上/)
    const first = posts[0].client_id
    // the page is left and opened again: the text is still there
    page.detach()
    page = await open()
    assert.equal(page.data.content, '建议定期通报辖区民族工作情况')
    postAnswer = req => ({statusCode: 200, data: F.suggestion({id: 31, client_id: req.data.client_id, content: req.data.content})})
    listed = [F.suggestion({id: 31, client_id: first, content: '建议定期通报辖区民族工作情况'})].concat(listed)
    page.querySelector('#submit').dispatchEvent('click')
    await flush(8)
    assert.equal(posts.length, 2)
    assert.equal(posts[1].client_id, first, 'the retry is recognised by the server')
    assert.equal(page.data.items.filter(s => s.id === 31).length, 1)
    assert.equal(page.data.sendError, '')
  })

  it('a text changed after a failed send goes with a new client_id; an empty one is not sent', async () => {
    postAnswer = () => ({fail: 'timeout'})
    const page = await open()
    page.querySelector('#submit').dispatchEvent('click')
    await flush(3)
    assert.equal(posts.length, 0)
    assert.match(sim.text(page, '#send-error'), /请填写意见建议/)
    type(page, '第一稿')
    page.querySelector('#submit').dispatchEvent('click')
    await flush(8)
    type(page, '第二稿')
    page.querySelector('#submit').dispatchEvent('click')
    await flush(8)
    assert.equal(posts.length, 2)
    assert.notEqual(posts[0].client_id, posts[1].client_id)
    // the server refusing the text says why
    postAnswer = () => F.error(400, 'invalid_argument', '请求参数有误', [{field: 'content', message: '意见建议不能超过1000字'}])
    page.querySelector('#submit').dispatchEvent('click')
    await flush(8)
    assert.match(sim.text(page, '#send-error'), /意见建议不能超过1000字/)
  })

  it('opened from the answer\'s message (?id=): a suggestion not listed is fetched, shown first and marked', async () => {
    const page = await open({id: '9'})
    assert.equal(page.data.items[0].id, 9)
    assert.match(page.querySelector('#suggestion-9').dom.className, /focus/)
    assert.ok(env.fake.requests.some(r => pathOf(r) === '/api/v1/suggestions/9'))
    const listedOne = await open({id: '20'})
    assert.equal(listedOne.data.items[0].id, 20)
    assert.equal(listedOne.data.items.length, 2)
    const gone = await open({id: '404'})
    assert.equal(gone.data.items.length, 2)
    assert.ok(env.fake.toasts.some(t => /不存在/.test(t.title)))
  })
})

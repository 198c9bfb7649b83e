'use strict'
// The platform for exchange: shares of my county and city and my own with their state, writing a
// share (photos uploaded once, a client_id a retry reuses), and bulletins corrected or withdrawn.
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, assertContract} = require('./helpers/app')
const {UUID_RE} = require('../miniprogram/outbox/uuid')
const F = require('./helpers/fixtures')

describe('experience shares', () => {
  let env
  let posts
  let postAnswer
  beforeEach(() => {
    env = setup()
    posts = []
    postAnswer = req => ({statusCode: 201, data: F.share({id: 50, client_id: req.data.client_id, title: req.data.title, text: req.data.text,
      status: 'pending', status_name: '待审核', mine: true, attachments: req.data.attachments.map(id => F.upload(id))})})
    let uploadID = 70
    env.fake.uploadHandler = () => ({statusCode: 201, data: F.upload(uploadID++)})
    env.fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/shares' && req.method === 'POST') {
        posts.push(req.data)
        return postAnswer(req)
      }
      if (p === '/api/v1/shares' && /mine=true/.test(req.url)) {
        return {statusCode: 200, data: F.page([
          F.share({id: 44, mine: true, status: 'rejected', status_name: '未通过', reject_reason: '请补充具体做法', instructor_name: '马明'}),
          F.share({id: 43, mine: true, status: 'pending', status_name: '待审核', audience: 'city', audience_region: '廊坊市', instructor_name: '马明'}),
        ])}
      }
      if (p === '/api/v1/shares') return {statusCode: 200, data: F.page([F.share({attachments: [F.upload(31)]})])}
      return F.error(404, 'not_found', '内容不存在')
    }
  })
  afterEach(() => assertContract(env))

  it('lists what my county and city shared, with photos; my shares show their state and why one was not approved', async () => {
    const page = sim.render('pages/shares/index')
    await page.instance.onLoad({})
    await flush(5)
    assert.match(sim.text(page, '#share-41'), /入户走访的三点体会.*李华 · 东关村 · 大厂镇/)
    assert.equal(page.data.items[0].images.length, 1)
    assert.doesNotMatch(sim.text(page, '#share-41'), /已通过/)
    page.querySelector('#tab-mine').dispatchEvent('tap')
    await flush(5)
    assert.match(sim.text(page, '#share-44'), /未通过.*未通过的原因:请补充具体做法/)
    assert.match(sim.text(page, '#share-43'), /待审核.*分享给廊坊市的指导员/)
    const urls = env.fake.requests.map(r => r.url.replace(/^https:\/\/api\.test/, ''))
    assert.deepEqual(urls, ['/api/v1/shares?limit=20&status=approved', '/api/v1/shares?limit=20&mine=true'])
  })

  async function type(page, sel, text) {
    const field = page.querySelector(sel)
    assert.ok(field, sel + ' is rendered')
    field.dispatchEvent('change', {detail: text})
    await flush(2)
  }

  it('sends a share with its photo uploaded once; a send lost on the network keeps it on the phone and the retry reuses the ids', async () => {
    postAnswer = () => ({fail: 'timeout'})
    const page = sim.render('pages/share-form/index')
    await page.instance.onLoad({})
    await type(page, '#f-title', '宣传月的做法')
    await type(page, '#f-text', '把政策编成顺口溜,在村广播里每天播两遍。')
    page.querySelector('#aud-city').dispatchEvent('tap')
    await page.instance.onAddPhotos()
    await flush(5)
    assert.equal(page.data.photos.length, 1)
    await page.instance.onSubmit()
    await flush(5)
    assert.equal(env.fake.uploads.length, 1)
    assert.equal(posts.length, 1)
    assert.match(posts[0].client_id, UUID_RE)
    assert.deepEqual([posts[0].title, posts[0].audience, posts[0].attachments], ['宣传月的做法', 'city', [70]])
    assert.match(sim.text(page, '#send-error'), /内容已保存在手机上/)
    assert.equal(env.fake.getStorageSync('share_draft').title, '宣传月的做法', 'kept on the phone')

    postAnswer = req => ({statusCode: 200, data: F.share({id: 50, client_id: req.data.client_id, mine: true, status: 'pending', status_name: '待审核'})})
    await page.instance.onSubmit()
    await flush(5)
    assert.equal(env.fake.uploads.length, 1, 'the photo is not uploaded twice')
    assert.equal(posts.length, 2)
    assert.equal(posts[1].client_id, posts[0].client_id)
    assert.deepEqual(posts[1].attachments, [70])
    assert.equal(env.fake.getStorageSync('share_draft'), '', 'nothing left on the phone')
    assert.ok(env.fake.navigations.includes('/pages/shares/index?mine=1'))
  })

  it('refuses an empty share on the phone, and a changed text gets a new client_id', async () => {
    postAnswer = req => F.error(400, 'invalid_argument', '请求参数有误', [{field: 'text', message: '分享内容最多5000字'}])
    const page = sim.render('pages/share-form/index')
    await page.instance.onLoad({})
    await page.instance.onSubmit()
    assert.match(sim.text(page, '#send-error'), /请填写标题/)
    assert.equal(posts.length, 0)
    await type(page, '#f-title', '标题')
    await type(page, '#f-text', '第一稿')
    await page.instance.onSubmit()
    await flush(5)
    assert.match(sim.text(page, '#send-error'), /分享内容最多5000字/)
    await type(page, '#f-text', '第二稿')
    await page.instance.onSubmit()
    await flush(5)
    assert.equal(posts.length, 2)
    assert.notEqual(posts[1].client_id, posts[0].client_id)
  })
})

describe('bulletins corrected and withdrawn', () => {
  let env
  beforeEach(() => {
    env = setup()
    env.fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/bulletins') {
        return {statusCode: 200, data: F.page([
          F.bulletin({id: 9, title: '六月工作简报', read: true, version: 2, corrected_at: F.T0, correction_note: '走访户数有误,更正为210户'}),
          F.bulletin({id: 8, status: 'withdrawn', status_name: '已撤回', summary: '', read: true, withdrawn_at: F.T0, withdraw_reason: '内容涉及尚未公开的工作安排'}),
        ])}
      }
      if (p === '/api/v1/bulletins/9') {
        return {statusCode: 200, data: F.bulletinDetail({id: 9, title: '六月工作简报', version: 2, corrected_at: F.T0,
          correction_note: '走访户数有误,更正为210户', body: '走访少数民族群众210户。'})}
      }
      if (p === '/api/v1/subscriptions') return {statusCode: 200, data: F.subscriptions([{}])}
      return F.error(404, 'bulletin_not_found', '工作简报不存在或不在您的范围内')
    }
  })
  afterEach(() => assertContract(env))

  it('shows a withdrawn bulletin with its reason and no body, and a corrected one with the note when opened', async () => {
    const page = sim.render('pages/bulletins/index')
    await page.instance.onLoad({})
    await flush(5)
    const withdrawn = sim.text(page, '#bulletin-8')
    assert.match(withdrawn, /已撤回.*撤回:内容涉及尚未公开的工作安排/)
    assert.ok(!page.querySelector('#bulletin-8 .card-summary'), 'no summary of what was withdrawn')
    page.querySelector('#bulletin-8 .card-head').dispatchEvent('tap')
    await flush(3)
    assert.ok(!env.fake.requests.some(r => pathOf(r) === '/api/v1/bulletins/8'), 'a withdrawn bulletin is not opened')
    assert.match(sim.text(page, '#bulletin-9'), /已更正/)
    page.querySelector('#bulletin-9 .card-head').dispatchEvent('tap')
    await flush(5)
    assert.match(sim.text(page, '#bulletin-9'), /更正:走访户数有误,更正为210户.*走访少数民族群众210户/)
  })

  it('opened from the notice (?id=), shows that bulletin first and opens it', async () => {
    const page = sim.render('pages/bulletins/index')
    await page.instance.onLoad({id: '9'})
    await flush(8)
    assert.equal(page.data.items[0].id, 9)
    assert.ok(page.data.items[0].open && page.data.items[0].loaded)
    assert.ok(page.querySelector('#bulletin-9.focus'))
  })
})

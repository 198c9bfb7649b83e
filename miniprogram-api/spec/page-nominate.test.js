'use strict'
// Self-nomination: someone not on the roster nominates themself with the bind ticket of their
// WeChat login (POST /api/v1/nominations, no token), picking the unit's region from the public
// region tree. Every exchange is checked against openapi.yaml.
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, assertContract} = require('./helpers/app')
const F = require('./helpers/fixtures')

const REGIONS = {
  '': F.regions('city', [['130100000000', '石家庄市'], ['131000000000', '廊坊市']]),
  '131000000000': F.regions('county', [['131002000000', '安次区'], ['131028000000', '大厂回族自治县']]),
  '131028000000': F.regions('township', [['131028100000', '大厂镇'], ['131028101000', '夏垫镇']]),
}

describe('self-nomination page', () => {
  let env
  let posts
  beforeEach(() => {
    env = setup({user: null})
    posts = []
    env.fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/dictionaries') return {statusCode: 200, data: F.dictionaries()}
      if (p === '/api/v1/regions') {
        const parent = (req.url.match(/parent=(\d+)/) || [])[1] || ''
        return {statusCode: 200, data: REGIONS[parent] || F.page([])}
      }
      if (p === '/api/v1/nominations') {
        posts.push(req)
        return {statusCode: 201, data: F.nomination({name: req.data.name, unit_name: req.data.unit_name, region_code: req.data.region_code})}
      }
      if (p === '/api/v1/auth/wechat/login') return {statusCode: 200, data: {bind_ticket: 'TK2', expires_in: 900}}
      return F.error(404, 'not_found', '内容不存在')
    }
  })
  afterEach(() => assertContract(env))

  async function open() {
    const page = sim.render('pages/nominate/index')
    await page.instance.onLoad({ticket: 'TK'})
    await flush(5)
    return page
  }

  async function fill(page) {
    const field = (id, v) => page.querySelector(id).dispatchEvent('change', {detail: v})
    field('#f-name', '李华')
    field('#f-phone', '13912345678')
    field('#f-unit', '大厂镇政府')
    field('#f-statement', '在村里做了八年调解工作')
    const pick = (field, list, i) => page.instance.onPick({currentTarget: {dataset: {field, list}}, detail: {value: i}})
    pick('gender', 'gender', 1)
    pick('ethnicity', 'ethnicity', 2)
    pick('source_category', 'source_category', 8)
    await page.instance.onRegion({currentTarget: {dataset: {level: 'city'}}, detail: {value: 1}})
    await page.instance.onRegion({currentTarget: {dataset: {level: 'county'}}, detail: {value: 1}})
    await page.instance.onRegion({currentTarget: {dataset: {level: 'township'}}, detail: {value: 0}})
    await flush(3)
  }

  it('checks the form on the phone first, then sends the nomination with the bind ticket and no token', async () => {
    const page = await open()
    assert.deepEqual(page.data.regions.city.map(r => r.name), ['石家庄市', '廊坊市'])
    page.querySelector('#submit').dispatchEvent('click')
    await flush(3)
    assert.deepEqual(Object.keys(page.data.errors).sort(), ['ethnicity', 'gender', 'name', 'phone', 'region_code', 'source_category', 'unit_name'])
    assert.equal(posts.length, 0)

    await fill(page)
    assert.equal(page.instance.regionCode(), '131028100000', 'the township when one is chosen')
    assert.ok(page.querySelector('.region-township'), 'the township picker shows once the county is chosen')
    await page.instance.onSubmit()
    await flush(3)
    assert.deepEqual(page.data.errors, {})
    assert.equal(posts.length, 1)
    assert.deepEqual(posts[0].data, {name: '李华', gender: 'female', ethnicity: '03', phone: '13912345678', source_category: 'minority_representative',
      region_code: '131028100000', unit_name: '大厂镇政府', statement: '在村里做了八年调解工作', bind_ticket: 'TK'})
    assert.equal(posts[0].header.Authorization, undefined, 'self-nomination goes without a token')
    assert.match(sim.text(page, '#done'), /自荐已提交/)
    assert.match(sim.text(page, '#done'), /待审核/)
    page.querySelector('#back').dispatchEvent('click')
    await flush(2)
    assert.deepEqual(env.fake.navigations, ['/pages/login/index'])
  })

  it('a city alone is not enough; changing the city clears the county', async () => {
    const page = await open()
    await page.instance.onRegion({currentTarget: {dataset: {level: 'city'}}, detail: {value: 1}})
    assert.equal(page.instance.regionCode(), '')
    await page.instance.onRegion({currentTarget: {dataset: {level: 'county'}}, detail: {value: 1}})
    assert.equal(page.instance.regionCode(), '131028000000')
    await page.instance.onRegion({currentTarget: {dataset: {level: 'city'}}, detail: {value: 0}})
    assert.equal(page.instance.regionCode(), '')
    assert.deepEqual(page.data.regions.township, [])
  })

  it('an expired bind ticket is renewed with a new WeChat login and the nomination sent again, once', async () => {
    const page = await open()
    await fill(page)
    const ok = env.fake.handler
    env.fake.handler = req => (pathOf(req) === '/api/v1/nominations' && req.data.bind_ticket === 'TK'
      ? (posts.push(req), F.error(401, 'bind_ticket_invalid', '绑定凭证已过期,请重新登录')) : ok(req))
    await page.instance.onSubmit()
    await flush(5)
    assert.deepEqual(posts.map(r => r.data.bind_ticket), ['TK', 'TK2'])
    assert.ok(page.data.done)
  })

  it('a pending nomination and field errors show the server\'s words', async () => {
    const page = await open()
    await fill(page)
    env.fake.handler = req => (pathOf(req) === '/api/v1/nominations'
      ? F.error(409, 'nomination_pending', '您已有一份待审核的自荐,请耐心等待县级民族工作部门审核') : F.error(404, 'not_found', '内容不存在'))
    await page.instance.onSubmit()
    assert.equal(page.data.done, null)
    assert.match(sim.text(page, '#error'), /待审核的自荐/)
    env.fake.handler = req => (pathOf(req) === '/api/v1/nominations'
      ? F.error(400, 'invalid_argument', '提交的内容有误', [{field: 'phone', message: '手机号已登记为在任指导员'}]) : F.error(404, 'not_found', '内容不存在'))
    await page.instance.onSubmit()
    assert.equal(page.data.errors.phone, '手机号已登记为在任指导员')
  })
})

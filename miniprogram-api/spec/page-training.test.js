'use strict'
// My training: the year's sessions with my attendance and hours, the year's totals, other years.
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, assertContract} = require('./helpers/app')
const {toBeijingISO} = require('../miniprogram/utils/records')
const F = require('./helpers/fixtures')

const YEAR = Number(toBeijingISO(new Date()).slice(0, 4))

describe('my training', () => {
  let env
  let byYear
  beforeEach(() => {
    env = setup()
    const y = String(YEAR)
    byYear = {
      [YEAR]: F.myTraining(YEAR, [
        F.trainingSession({id: 7, year: YEAR, title: '线上政策解读', method: 'seminar', method_name: '交流研讨', mode: 'online', mode_name: '线上',
          place: '', url: 'https://meeting.example.cn/j/123', lecturer: '', topic: '', starts_at: y + '-06-01T14:00:00+08:00',
          ends_at: y + '-06-01T16:00:00+08:00', hours: 2, mine: {status: 'enrolled', status_name: '已报名', hours: 0}}),
        F.trainingSession({id: 5, year: YEAR, starts_at: y + '-03-10T09:00:00+08:00', ends_at: y + '-03-11T12:00:00+08:00', hours: 8,
          mine: {status: 'attended', status_name: '已参加', hours: 6.5}}),
        F.trainingSession({id: 4, year: YEAR, title: '外出考察学习', method: 'field_trip', method_name: '外出考察', starts_at: y + '-02-10T09:00:00+08:00',
          ends_at: y + '-02-10T17:00:00+08:00', hours: 4, mine: {status: 'absent', status_name: '缺席', hours: 0}}),
        F.trainingSession({id: 3, year: YEAR, title: '民族政策专题培训', starts_at: y + '-01-10T09:00:00+08:00', ends_at: y + '-01-10T12:30:00+08:00',
          hours: 3.5, mine: {status: 'attended', status_name: '已参加', hours: 3.5}}),
      ]),
      [YEAR - 1]: F.myTraining(YEAR - 1, []),
    }
    env.fake.handler = req => {
      if (pathOf(req) !== '/api/v1/me/training') return F.error(404, 'not_found', '内容不存在')
      const year = Number((/year=(\d+)/.exec(req.url) || [])[1]) || YEAR
      return {statusCode: 200, data: byYear[year] || F.myTraining(year, [])}
    }
  })
  afterEach(() => assertContract(env))

  it('shows this year\'s hours and sessions: time, place or link, topic, lecturer, hours, attended or not', async () => {
    const page = sim.render('pages/training/index')
    await page.instance.onLoad()
    await flush(3)
    assert.deepEqual(env.fake.requests.map(r => r.url.replace(/^https:\/\/api\.test/, '')), ['/api/v1/me/training?year=' + YEAR])
    assert.deepEqual([page.data.hours, page.data.sessions, page.data.enrolled], ['10', 2, 4])
    assert.equal(sim.text(page, '#totals'), '10' + YEAR + '年学时2参加培训(次)4报名培训(次)')
    const attended = sim.text(page, '#session-3')
    assert.match(attended, /民族政策专题培训.*已参加/)
    assert.match(attended, new RegExp('时间' + YEAR + '-01-10 09:00 至 12:30'))
    assert.match(attended, /方式专家授课 · 线下/)
    assert.match(attended, /地点市委党校报告厅/)
    assert.match(attended, /内容民族理论政策、法律法规/)
    assert.match(attended, /主题铸牢中华民族共同体意识/)
    assert.match(attended, /授课人王教授/)
    assert.match(attended, /学时3\.5\(计入我的学时 3\.5\)/)
    // a session over two days shows both dates; partly attended shows the hours credited
    assert.match(sim.text(page, '#session-5'), new RegExp(YEAR + '-03-10 09:00 至 ' + YEAR + '-03-11 12:00'))
    assert.match(sim.text(page, '#session-5'), /学时8\(计入我的学时 6\.5\)/)
    assert.match(sim.text(page, '#session-4'), /缺席/)
    assert.doesNotMatch(sim.text(page, '#session-4'), /计入/)
    const online = sim.text(page, '#session-7')
    assert.match(online, /已报名/)
    assert.match(online, /链接https:\/\/meeting\.example\.cn\/j\/123/)
    assert.doesNotMatch(online, /地点|主题|授课人/, 'empty fields are left out')
    let copied = null
    env.fake.setClipboardData = r => { copied = r.data }
    page.querySelector('#session-7 .copy-link').dispatchEvent('click')
    await flush(2)
    assert.equal(copied, 'https://meeting.example.cn/j/123')
  })

  it('opened from a notice (?id=): that session first and marked; one of another year is fetched alone', async () => {
    const page = sim.render('pages/training/index')
    await page.instance.onLoad({id: '5'})
    await flush(3)
    assert.deepEqual(page.data.items.map(s => s.id), [5, 7, 4, 3])
    assert.match(page.querySelector('#session-5').dom.className, /focus/)
    const next = F.trainingSession({id: 11, year: YEAR + 1, title: '新年第一课', starts_at: (YEAR + 1) + '-01-05T09:00:00+08:00',
      ends_at: (YEAR + 1) + '-01-05T12:00:00+08:00', mine: {status: 'enrolled', status_name: '已报名', hours: 0}})
    const handler = env.fake.handler
    env.fake.handler = req => (pathOf(req) === '/api/v1/training-sessions/11' ? {statusCode: 200, data: next} : handler(req))
    const other = sim.render('pages/training/index')
    await other.instance.onLoad({id: '11'})
    await flush(5)
    assert.equal(other.data.items[0].id, 11)
    assert.match(sim.text(other, '#session-11'), /新年第一课.*已报名/)
    assert.equal(other.data.enrolled, 4, 'the year\'s totals are the year\'s')
  })

  it('switches year: the two years before this one; a year without training says so', async () => {
    const page = sim.render('pages/training/index')
    await page.instance.onLoad()
    await flush(3)
    assert.deepEqual(page.data.years, [YEAR - 2, YEAR - 1, YEAR])
    page.querySelector('#year-' + (YEAR - 1)).dispatchEvent('tap')
    await flush(3)
    assert.equal(page.data.year, YEAR - 1)
    assert.match(env.fake.requests[1].url, new RegExp('year=' + (YEAR - 1) + '$'))
    assert.match(page.dom.textContent, new RegExp((YEAR - 1) + '年没有我参加的培训'))
    assert.equal(sim.text(page, '#totals'), '0' + (YEAR - 1) + '年学时0参加培训(次)0报名培训(次)')
    assert.match(page.querySelector('#year-' + (YEAR - 1)).dom.className, /year-on/)
  })

  it('loading and error states; the server\'s message for someone who is not an instructor', async () => {
    env.fake.handler = () => F.error(403, 'forbidden', '仅指导员可以查看本人培训记录')
    const page = sim.render('pages/training/index')
    const loading = page.instance.onLoad()
    assert.equal(page.data.loading, true)
    assert.match(page.dom.textContent, /加载中/)
    await loading
    await flush(3)
    assert.match(page.dom.textContent, /仅指导员可以查看本人培训记录/)
    env.fake.handler = () => ({fail: 'timeout'})
    await page.instance.onRetry()
    await flush(3)
    assert.match(page.dom.textContent, /网络不给力,请稍后重试/)
  })
})

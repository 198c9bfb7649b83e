'use strict'
// The minutes of a meeting on the phone: once it has started, "会议纪要" reads the meeting alone
// (the only answer with `minutes`) and shows the county's text, photos and recordings under its
// card; a meeting without minutes says so; one opened from a message shows them at once.
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, assertContract, BASE} = require('./helpers/app')
const F = require('./helpers/fixtures')

const HOUR = 3600 * 1000
const minutes = {
  body: '一、传达上级文件精神\n二、交流本月走访情况', version: 2, created_at: F.iso(-HOUR), updated_at: F.iso(-HOUR / 2),
  attachments: [F.upload(31), F.upload(32, {kind: 'audio', mime: 'audio/aac', name: '发言录音.aac'})],
}

describe('meeting minutes on the phone', () => {
  let env
  let list
  let detail
  beforeEach(() => {
    env = setup()
    list = [
      F.meeting({id: 9, title: '下月例会'}),
      F.meeting({id: 7, title: '十一月例会', status: 'ended', status_name: '已结束', starts_at: F.iso(-3 * HOUR), ends_at: F.iso(-HOUR)}),
      F.meeting({id: 5, title: '十月例会', status: 'ended', status_name: '已结束', starts_at: F.iso(-30 * 24 * HOUR), ends_at: F.iso(-30 * 24 * HOUR + HOUR)}),
    ]
    detail = {7: Object.assign({}, list[1], {minutes}), 5: list[2], 9: list[0]}
    env.fake.handler = req => {
      const p = pathOf(req)
      if (p === '/api/v1/meetings') return {statusCode: 200, data: F.page(list)}
      const m = /^\/api\/v1\/meetings\/(\d+)$/.exec(p)
      if (m && detail[m[1]]) return {statusCode: 200, data: detail[m[1]]}
      return F.error(404, 'not_found', '内容不存在')
    }
  })
  afterEach(() => assertContract(env))

  it('shows the minutes of a held meeting with their photos and recordings', async () => {
    const page = sim.render('pages/meetings/index')
    await page.instance.onLoad()
    await flush(3)
    // nothing to read before the meeting; the button on the held ones
    assert.equal(page.querySelector('#meeting-9 .show-minutes'), undefined)
    assert.ok(page.querySelector('#meeting-7 .show-minutes'))
    assert.equal(page.querySelector('#minutes-7'), undefined)
    page.querySelector('#meeting-7 .show-minutes').dispatchEvent('click')
    await flush(5)
    assert.ok(env.fake.requests.some(r => pathOf(r) === '/api/v1/meetings/7'))
    const text = sim.text(page, '#minutes-7')
    assert.match(text, /会议纪要.*传达上级文件精神/)
    assert.match(text, /交流本月走访情况/)
    assert.match(text, /发言录音\.aac/)
    assert.deepEqual(page.data.items[1].minutes.images, [BASE + F.upload(31).url])
    assert.equal(page.querySelector('#meeting-7 .show-minutes'), undefined)

    // a meeting without minutes says so
    page.querySelector('#meeting-5 .show-minutes').dispatchEvent('click')
    await flush(5)
    assert.match(sim.text(page, '#meeting-5'), /尚未记录本次例会的纪要/)
    assert.equal(page.querySelector('#minutes-5'), undefined)
  })

  it('shows the minutes at once for a meeting opened from a message', async () => {
    list = [list[0]]
    const page = sim.render('pages/meetings/index')
    await page.instance.onLoad({id: '7'})
    await flush(4)
    assert.deepEqual(page.data.items.map(i => i.id), [7, 9])
    assert.match(sim.text(page, '#minutes-7'), /传达上级文件精神/)
  })
})

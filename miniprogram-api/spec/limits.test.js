'use strict'
// The attachment limit (utils/limits.js) is the contract's, and it is what the forms show and
// enforce: the record form, the task report form and the outbox that keeps both.
const sim = require('./helpers/sim')
const {describe, it, beforeEach, afterEach} = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')
const YAML = require('yaml')
const {flush, pathOf} = require('./helpers/fake-wx')
const {setup, assertContract} = require('./helpers/app')
const F = require('./helpers/fixtures')
const {MAX_ATTACHMENTS} = require('../miniprogram/utils/limits')
const {TASK_REPORT} = require('../miniprogram/outbox/outbox')

const MAX = MAX_ATTACHMENTS

/** `n` photos as wx.chooseMedia hands them over. */
function chosen(n) {
  return Array.from({length: n}, (_, i) => ({tempFilePath: 'http://tmp/photo' + (i + 1) + '.jpg', size: 2048, fileType: 'image'}))
}

/** Counts wx.chooseMedia calls and the `count` each asked for. */
function watchChooser(fake) {
  const asked = []
  const choose = fake.chooseMedia
  fake.chooseMedia = r => {
    asked.push(r.count)
    return choose(r)
  }
  return asked
}

describe('the attachment limit', () => {
  it('is the maxItems openapi.yaml gives every request\'s attachment ids (the server\'s upload.MaxAttachments)', () => {
    const spec = YAML.parse(fs.readFileSync(path.join(__dirname, '..', 'openapi.yaml'), 'utf8'))
    const limits = {}
    for (const [name, schema] of Object.entries(spec.components.schemas)) {
      const a = schema.properties && schema.properties.attachments
      if (a && a.type === 'array' && a.items && a.items.type === 'integer') limits[name] = a.maxItems
    }
    // what the phone sends: a record, its correction, a task report
    for (const name of ['RecordInput', 'RecordPatch', 'TaskReportInput']) assert.ok(name in limits, name + ' has attachment ids')
    for (const [name, max] of Object.entries(limits)) assert.equal(max, MAX, name + '.attachments maxItems')
  })

  describe('in the forms', () => {
    let env
    beforeEach(() => {
      env = setup()
      env.fake.networkType = 'none' // keep the outbox from sending while we look
      env.fake.handler = req => {
        const p = pathOf(req)
        if (p === '/api/v1/dictionaries') return {statusCode: 200, data: F.dictionaries()}
        if (p === '/api/v1/tasks/12') return {statusCode: 200, data: F.taskDetail({id: 12})}
        if (p === '/api/v1/tasks/12/reports') return {statusCode: 200, data: F.page([])}
        return F.error(404, 'not_found', '内容不存在')
      }
    })
    afterEach(() => assertContract(env))

    it('the record form says the limit, takes no more photos than it, and turns off the photo and voice buttons at it', async () => {
      const page = sim.render('pages/record-form/index')
      await page.instance.onLoad({kind: 'tip'})
      await flush(5)
      assert.match(sim.text(page, '.page'), new RegExp('照片和录音\\(最多' + MAX + '个\\)'))
      const asked = watchChooser(env.fake)
      env.fake.mediaFiles = chosen(2)
      await page.instance.onAddPhoto()
      await flush(3)
      assert.equal(page.data.attachments.length, 2)
      assert.equal(page.querySelector('#add-photo').data.disabled, false)
      env.fake.mediaFiles = chosen(MAX + 3) // more than it asked for
      await page.instance.onAddPhoto()
      await flush(3)
      assert.deepEqual(asked, [MAX, MAX - 2], 'it asks for as many as there is room for')
      assert.equal(page.data.attachments.length, MAX, 'no more than the limit kept')
      assert.equal(page.querySelector('#add-photo').data.disabled, true)
      assert.equal(page.querySelector('#record-voice').data.disabled, true)
      await page.instance.onAddPhoto()
      assert.equal(asked.length, 2, 'at the limit the camera is not opened')
      page.instance.onToggleRecord()
      assert.equal(page.data.recording, false, 'at the limit no recording starts')
      page.instance.onRemoveAttachment({currentTarget: {dataset: {index: 0}}})
      assert.equal(page.querySelector('#add-photo').data.disabled, false)
    })

    it('the task report form says the limit, takes no more photos than it, and turns off its photo button at it', async () => {
      const page = sim.render('pages/task-detail/index')
      await page.instance.onLoad({id: '12'})
      await flush(5)
      page.querySelector('#open-report').dispatchEvent('click')
      await flush(3)
      assert.equal(sim.text(page, '#add-photo'), '拍照/相册(最多' + MAX + '张)')
      const asked = watchChooser(env.fake)
      env.fake.mediaFiles = chosen(MAX + 1)
      await page.instance.onAddPhoto()
      await flush(3)
      assert.deepEqual(asked, [MAX])
      assert.equal(page.data.form.photos.length, MAX)
      assert.equal(page.querySelector('#add-photo').data.disabled, true)
      await page.instance.onAddPhoto()
      assert.equal(asked.length, 1, 'at the limit the camera is not opened')
    })

    it('the outbox keeps a task report of the limit and refuses one over it', () => {
      const photos = n => Array.from({length: n}, (_, i) => ({path: 'wxfile://store/p' + i + '.jpg', type: 'image'}))
      const report = n => ({kind: TASK_REPORT, task_id: 12, record: {text: '已走访', done: false}, attachments: photos(n)})
      assert.equal(env.outbox.saveDraft(report(MAX)).attachments.length, MAX)
      assert.throws(() => env.outbox.saveDraft(report(MAX + 1)), new RegExp('照片最多' + MAX + '张'))
    })
  })
})

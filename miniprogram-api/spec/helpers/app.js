// Wires a fake wx, a real client and a real outbox for page tests.
'use strict'
const sim = require('./sim')
const {createFakeWx} = require('./fake-wx')
const {createClient, setClient} = require('../../miniprogram/api/client')
const {createOutbox, setOutbox} = require('../../miniprogram/outbox/outbox')

const {toBeijingISO} = require('../../miniprogram/utils/records')

const BASE = 'https://api.test'

function setup(opts) {
  const o = opts || {}
  const fake = sim.installWx(createFakeWx())
  const client = createClient({baseURL: BASE})
  setClient(client)
  if (o.user !== null) {
    client.setSession({access_token: 'A', refresh_token: 'R', expires_in: 3600,
      user: o.user || {id: 3, role: 'instructor', display_name: '马明', region_code: '131028000000'}})
  }
  const outbox = createOutbox({client, setTimer: () => null, clearTimer: () => {}})
  setOutbox(outbox)
  return {fake, client, outbox}
}

/** A record view as the server sends it. */
function recordView(over) {
  return Object.assign({
    id: 1, kind: 'tip', kind_name: '风险隐患线索', client_id: '3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17', title: '村口聚集',
    status: 'submitted', status_name: '待签收', occurred_at: toBeijingISO(new Date(Date.now() - 3600 * 1000)), received_at: '2024-05-01T09:31:00+08:00',
    updated_at: '2024-05-01T09:31:00+08:00', place: '大厂镇', author_id: 3, author_name: '马明', unit_id: 1, unit_name: '大厂镇政府',
    region_code: '131028100000', region_name: '大厂镇', version: 1, editable: true, attachments: [],
    tip: {level: 'serious', level_name: '较大', kind: 'sign', kind_name: '苗头性', people_involved: 10, groups_involved: '',
      description: '有人在村口聚集', ongoing: true, escalated_to: '', escalated_to_name: '', ack_deadline: '2024-05-02T09:31:00+08:00'},
  }, over || {})
}

module.exports = {setup, recordView, BASE}

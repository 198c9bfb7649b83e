// Wires a fake wx, a real client and a real outbox for page tests.
'use strict'
const sim = require('./sim')
const {createFakeWx} = require('./fake-wx')
const {createClient, setClient} = require('../../miniprogram/api/client')
const {createOutbox, setOutbox} = require('../../miniprogram/outbox/outbox')

const F = require('./fixtures')

const BASE = 'https://api.test'

function setup(opts) {
  const o = opts || {}
  const fake = sim.installWx(createFakeWx())
  // Pages talk to the server only as openapi.yaml says: every request they make and every answer
  // the test's fake server gives are checked (assertContract in afterEach).
  fake.contract = o.contract !== false
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

/** A record as the server sends it (fixtures.record: complete per openapi.yaml). */
const recordView = F.record

/** Fails when a page sent, or a test's fake server answered, something the contract does not allow. */
function assertContract(env) {
  if (!env || !env.fake || !env.fake.contract) return
  const errs = env.fake.contractErrors.splice(0)
  if (errs.length) throw new Error('exchanges outside openapi.yaml:\n  ' + [...new Set(errs)].join('\n  '))
}

module.exports = {setup, recordView, assertContract, BASE}

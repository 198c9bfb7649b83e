// The phones of measure-desk.mjs, in a worker thread of their own so that their requests do not
// hold up the measuring thread's clock and its browser driver. Each phone submits a tip every 5 s
// and visit logs back to back in between, until `until`; posts the counts and submission times back.
import { parentPort, workerData } from 'node:worker_threads'
import { call } from './server.mjs'
import { recordBody } from './measure-body.mjs'

const { base, tokens, until } = workerData
const submitMs = []
const errors = {}
let tips = 0
let visits = 0

async function post(token, kind, title) {
  const t0 = Date.now()
  const r = await call(base, token, 'POST', '/api/v1/' + (kind === 'tip' ? 'tips' : 'visits'), recordBody(kind, title))
  submitMs.push(Date.now() - t0)
  if (r.status !== 201) {
    const k = r.status + ' ' + (r.body?.code || '')
    errors[k] = (errors[k] || 0) + 1
  }
}

await Promise.all(
  tokens.map(async (token, p) => {
    let next = Date.now() + (p * 5000) / tokens.length
    while (Date.now() < until) {
      while (Date.now() < next && Date.now() < until) await post(token, 'visit', `负载走访${p}-${visits++}`)
      if (Date.now() >= until) break
      await post(token, 'tip', `负载线索${p}-${tips++}`)
      next += 5000
    }
  }),
)
parentPort.postMessage({ submitMs, errors, tips, visits })

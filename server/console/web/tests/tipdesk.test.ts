import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import TipDeskView from '../src/views/TipDeskView.vue'
import { clearSession, setSession } from '../src/api/session'
import { fakeServer, json, settle, type Call } from './fake'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createMemoryHistory, createRouter } from 'vue-router'
import { defineComponent, h } from 'vue'

// The desk against a fake server: its stream is a response body the test writes events into.
function stream() {
  let ctl!: ReadableStreamDefaultController<Uint8Array>
  const body = new ReadableStream<Uint8Array>({ start: (c) => (ctl = c) })
  const enc = new TextEncoder()
  return {
    res: new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } }),
    send: (s: string) => ctl.enqueue(enc.encode(s)),
  }
}

const event = (id: number, tipId: number, kind: string) => `id: ${id}\nevent: tip\ndata: {"id":${id},"tip_id":${tipId},"kind":"${kind}"}\n\n`

function tip(id: number, status: string, updated: string, title = '线索' + id) {
  return {
    id, kind: 'tip', kind_name: '风险隐患', client_id: 'c' + id, title, status, status_name: status, occurred_at: '2026-12-05T08:00:00+08:00',
    received_at: '2026-12-05T08:01:00+08:00', updated_at: updated, place: '集市', author_id: 1, author_name: '田志强', unit_id: 2,
    unit_name: '东村', region_code: '131028000000', region_name: '大厂回族自治县', version: 1, editable: false, attachments: [],
    tip: { level: 'serious', level_name: '较大', kind: 'sign', kind_name: '苗头', people_involved: 8, groups_involved: '摊贩', description: '争吵',
      ongoing: true, escalated_to: '', escalated_to_name: '', ack_deadline: status === 'submitted' ? '2026-12-05T10:00:00+08:00' : undefined },
  }
}

describe('the tip desk', () => {
  let calls: Call[]
  let s: ReturnType<typeof stream>
  // what GET /api/v1/tips/{id} answers, and how long it waits, per tip
  let detail: Record<number, { body: unknown; wait?: Promise<void> }[]>

  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 9, role: 'county_staff', display_name: '县局', username: 'c', region_code: '131028000000' } })
    s = stream()
    detail = {}
    const one = (id: number) => async () => {
      const next = detail[id]?.shift()
      if (!next) return json(404, { code: 'not_found', message: '记录不存在', details: [], request_id: 'r' })
      await next.wait
      return json(200, next.body)
    }
    calls = fakeServer({
      'GET /api/v1/tips/stream': () => s.res,
      'GET /api/v1/tips': (c) => json(200, { items: c.query.get('status') === 'submitted' ? [tip(1, 'submitted', '2026-12-05T08:01:00+08:00')] : [], next_cursor: '' }),
      'GET /api/v1/tips/1': one(1),
      'GET /api/v1/tips/5': one(5),
      'GET /api/v1/tips/6': one(6),
    }).calls
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  const lists = () => calls.filter((c) => c.path === '/api/v1/tips').length
  const reads = (id: number) => calls.filter((c) => c.path === '/api/v1/tips/' + id).length
  const titles = () => [...document.querySelectorAll('.desk-table .el-table__body tr')].map((r) => r.textContent ?? '')

  async function open() {
    const Blank = defineComponent({ render: () => h('div') })
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/tip-desk', name: 'tip-desk', component: TipDeskView },
        { path: '/records/:kind', name: 'records', component: Blank },
        { path: '/records/:kind/:id', name: 'record', component: Blank },
        { path: '/login', name: 'login', component: Blank },
      ],
    })
    await router.push('/tip-desk')
    await router.isReady()
    const wrapper = mount(TipDeskView, { global: { plugins: [ElementPlus, router] }, attachTo: document.body })
    s.send('retry: 3000\nevent: ready\ndata: {"last_id":0,"live":true}\n\n')
    for (let i = 0; i < 50 && lists() < 4; i++) await settle()
    await settle()
    return wrapper
  }

  it('reads the whole desk once on connecting, then only the tip each event names', async () => {
    const w = await open()
    expect(lists()).toBe(4) // one list per open status
    expect(titles().join()).toContain('线索1')
    // a submitted tip counts down to its escalation (its deadline has passed here)
    expect(document.querySelector('.desk-table .countdown')?.textContent).toBe('已超时,即将自动上报')

    detail[5] = [{ body: tip(5, 'submitted', '2026-12-05T09:00:00+08:00', '集市摊位纠纷') }]
    s.send(event(11, 5, 'tip.submitted'))
    for (let i = 0; i < 50 && !titles().join().includes('集市摊位纠纷'); i++) await settle()
    expect(titles().join()).toContain('集市摊位纠纷')
    expect(reads(5)).toBe(1)
    expect(lists()).toBe(4) // an event costs one read, however long the desk
    expect(document.title).toMatch(/^\(1\) 新线索/)
    w.unmount()
  })

  it('takes a tip off when it leaves the open statuses, and keeps the newer of two answers', async () => {
    const w = await open()
    detail[1] = [{ body: tip(1, 'resolved', '2026-12-05T09:30:00+08:00') }]
    s.send(event(12, 1, 'tip.resolved'))
    for (let i = 0; i < 50 && titles().join().includes('线索1'); i++) await settle()
    expect(titles().join()).not.toContain('线索1')

    // tip 6 is acknowledged right after it came in; the first answer comes back last
    let release!: () => void
    const late = new Promise<void>((r) => (release = r))
    detail[6] = [
      { body: tip(6, 'submitted', '2026-12-05T09:40:00+08:00', '夜市争执'), wait: late },
      { body: tip(6, 'acknowledged', '2026-12-05T09:41:00+08:00', '夜市争执') },
    ]
    s.send(event(13, 6, 'tip.submitted'))
    await settle()
    s.send(event(14, 6, 'tip.acknowledged'))
    for (let i = 0; i < 50 && !titles().join().includes('夜市争执'); i++) await settle()
    expect(titles().join()).toContain('acknowledged')
    release()
    await settle(20)
    const row = titles().find((t) => t.includes('夜市争执'))!
    expect(row).toContain('acknowledged')
    expect(row).not.toContain('submitted')
    expect(lists()).toBe(4)
    w.unmount()
  })
})

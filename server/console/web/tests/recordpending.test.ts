import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createMemoryHistory, createRouter, RouterView } from 'vue-router'
import { defineComponent, h } from 'vue'
import RecordDetailView from '../src/views/RecordDetailView.vue'
import { clearSession, setSession } from '../src/api/session'
import { fakeServer, json, settle } from './fake'
import type { components } from '../src/api/schema'

type Record = components['schemas']['Record']
type Pending = components['schemas']['PendingAttachment']

const tip = (pending: Pending[], attachments: Record['attachments'] = []): Record => ({
  id: 7, kind: 'tip', kind_name: '风险隐患线索', client_id: '3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17', title: '村口聚集', status: 'submitted',
  status_name: '待签收', occurred_at: '2026-12-05T09:00:00+08:00', received_at: '2026-12-05T09:01:00+08:00', updated_at: '2026-12-05T09:01:00+08:00',
  place: '东关村', author_id: 2, author_name: '马明', unit_id: 3, unit_name: '东关村村委会', region_code: '131028100000', region_name: '大厂镇',
  version: 1, editable: true, attachments, pending_attachments: pending, role: 'stability_mediator', role_name: '维稳调解员', tags: [], tag_names: [], timeline: [],
  tip: { level: 'major', level_name: '重大', kind: 'sign', kind_name: '苗头性', people_involved: 40, groups_involved: '', description: '聚集', ongoing: true } as never,
})

const pending = (n: number, state: 'pending' | 'missing'): Pending => ({
  client_id: `3f2b8c1e-9d4a-4c7b-8e21-00000000000${n}`, state, state_name: state === 'missing' ? '未送达' : '照片上传中',
  declared_at: '2026-12-05T09:01:00+08:00',
})

async function open(record: Record) {
  fakeServer({
    'GET /api/v1/tips/7': () => json(200, record),
    'GET /api/v1/tips/7/versions': () => json(200, { items: [] }),
  })
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/records/:kind/:id', name: 'record', component: RecordDetailView }],
  })
  await router.push('/records/tips/7')
  await router.isReady()
  const App = defineComponent({ render: () => h(RouterView) })
  mount(App, { global: { plugins: [ElementPlus, router] }, attachTo: document.body })
  await settle(20)
  return document.querySelector('[data-test="pending-attachments"]')
}

describe('a record whose photos come after its text', () => {
  beforeEach(() => {
    clearSession()
    setSession({ access_token: 'a', user: { id: 3, role: 'county_staff', display_name: '县局', username: 'dc', region_code: '131028000000' } })
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('shows the photos on their way', async () => {
    const el = await open(tip([pending(1, 'pending'), pending(2, 'pending')]))
    expect(el?.textContent).toContain('照片上传中')
    expect(el?.textContent).toContain('记录文字已送达,2 个附件正在从手机上传')
    expect(document.body.textContent).toContain('附件(2)')
  })

  it('says so when a photo never arrived, and that the record stands', async () => {
    const el = await open(tip([pending(1, 'missing')]))
    expect(el?.textContent).toContain('未送达')
    expect(el?.textContent).toContain('1 个附件超过保留期限仍未送达,记录本身有效')
  })

  it('shows nothing pending once every photo arrived', async () => {
    const el = await open(tip([]))
    expect(el).toBeNull()
  })
})

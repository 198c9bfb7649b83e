import { api, unwrap } from '../api/client'
import type { components } from '../api/schema'

export type RecordView = components['schemas']['Record']
export type RecordKind = components['schemas']['RecordKind']

// The four kinds of field record, by the path segment the API and the console use.
export const recordKinds = {
  visits: { kind: 'visit', label: '走访日志', statusDict: 'visit_status' },
  sentiments: { kind: 'sentiment', label: '民情报告', statusDict: 'sentiment_status' },
  tips: { kind: 'tip', label: '风险隐患线索', statusDict: 'tip_status' },
  mediations: { kind: 'mediation', label: '矛盾纠纷调解', statusDict: 'mediation_status' },
} as const
export type KindPath = keyof typeof recordKinds

export function pathOfKind(kind: string): KindPath {
  return (Object.keys(recordKinds) as KindPath[]).find((p) => recordKinds[p].kind === kind) ?? 'visits'
}

// What an action asks for besides its optional note.
export type ActionField = 'note' | 'return_note' | 'of' | 'department' | 'answer' | 'followup'
export type ActionDef = { name: string; label: string; from?: string[]; field: ActionField; type?: 'primary' | 'warning' | 'danger' | 'success' }

const open = (s: string, finals: string[]) => s !== 'returned' && s !== 'withdrawn' && !finals.includes(s)

// The staff workflow of each kind, as the API defines it (server/record); the API decides, the
// console only hides buttons that would be refused.
export const staffActions: Record<string, ActionDef[]> = {
  tip: [
    { name: 'acknowledge', label: '签收', from: ['submitted', 'escalated'], field: 'note', type: 'primary' },
    { name: 'handle', label: '处置', from: ['acknowledged', 'escalated'], field: 'note' },
    { name: 'resolve', label: '化解', from: ['acknowledged', 'handling', 'escalated'], field: 'note', type: 'success' },
    { name: 'escalate', label: '上报', from: ['submitted', 'acknowledged', 'handling'], field: 'note', type: 'warning' },
    { name: 'duplicate', label: '标记重复', from: ['submitted', 'acknowledged', 'handling', 'escalated'], field: 'of' },
    { name: 'return', label: '退回修改', field: 'return_note', type: 'danger' },
  ],
  sentiment: [
    { name: 'forward', label: '转达', from: ['open', 'forwarded'], field: 'department', type: 'primary' },
    { name: 'answer', label: '答复', from: ['open', 'forwarded', 'answered'], field: 'answer' },
    { name: 'close', label: '办结', from: ['answered'], field: 'note', type: 'success' },
    { name: 'return', label: '退回修改', field: 'return_note', type: 'danger' },
  ],
  mediation: [
    { name: 'followups', label: '登记回访', from: ['submitted', 'returned'], field: 'followup', type: 'primary' },
    { name: 'return', label: '退回修改', field: 'return_note', type: 'danger' },
  ],
  visit: [{ name: 'return', label: '退回修改', field: 'return_note', type: 'danger' }],
}

const finals: Record<string, string[]> = { tip: ['resolved'], sentiment: ['closed'], mediation: [], visit: [] }

export function actionsFor(r: { kind: string; status: string; tip?: { duplicate_of?: number } }): ActionDef[] {
  if (r.tip?.duplicate_of) return [] // a duplicate follows its original: act on that one
  return (staffActions[r.kind] ?? []).filter((a) => (a.from ? a.from.includes(r.status) : open(r.status, finals[r.kind] ?? [])))
}

// act sends a workflow action. The path is built from the kind and action, which the contract
// lists one by one; the body is what the action's field asks for.
export async function act(kind: string, id: number, action: string, body: Record<string, unknown>): Promise<RecordView> {
  const path = `/api/v1/${pathOfKind(kind)}/{id}/${action}` as '/api/v1/tips/{id}/acknowledge'
  return unwrap(api.POST(path, { params: { path: { id } }, body: body as never })) as Promise<RecordView>
}

// Fields of a kind's own part, in the order the detail page shows them: [label, value].
export function ownFields(r: RecordView): [string, string][] {
  const yes = (b: boolean | undefined) => (b ? '是' : '否')
  const t = (s?: string) => (s ? s.replace('T', ' ').slice(0, 16) : '')
  if (r.visit) {
    const v = r.visit
    return [
      ['走访类型', v.visit_kind_name],
      ['走访户数', String(v.households)],
      ['走访人数', String(v.people)],
      ['涉及民族', (v.ethnicity_names ?? []).join('、')],
      ['走访内容', v.content],
      ['需要跟进', yes(v.follow_up_needed)],
    ]
  }
  if (r.sentiment) {
    const s = r.sentiment
    return [
      ['类别', s.category_name],
      ['紧急程度', s.urgency_name],
      ['涉及人数', String(s.people_affected)],
      ['群众意见或诉求', s.content],
      ['建议', s.suggestion],
      ['转达部门', s.forwarded_to ? s.forwarded_to + (s.forwarded_at ? '(' + t(s.forwarded_at) + ')' : '') : '—'],
      ['答复', s.answer ? s.answer + (s.answered_at ? '(' + t(s.answered_at) + ')' : '') : '—'],
      ['办结时间', t(s.closed_at) || '—'],
    ]
  }
  if (r.tip) {
    const p = r.tip
    return [
      ['风险等级', p.level_name],
      ['线索类型', p.kind_name],
      ['涉及人数', String(p.people_involved)],
      ['涉及群体', p.groups_involved],
      ['线索描述', p.description],
      ['正在发生', yes(p.ongoing)],
      ['签收时限', t(p.ack_deadline) || '—'],
      ['签收时间', t(p.acknowledged_at) || '—'],
      ['上报至', p.escalated_to_name || '—'],
      ['化解时间', t(p.resolved_at) || '—'],
      ['重复线索的原线索', p.duplicate_of ? '#' + p.duplicate_of : '—'],
    ]
  }
  if (r.mediation) {
    const m = r.mediation
    return [
      ['纠纷类型', m.dispute_kind_name],
      ['当事人', m.parties.map((x) => `${x.name}(${x.ethnicity_name},${x.role_name})`).join(';')],
      ['调解过程', m.process],
      ['调解结果', m.outcome_name],
      ['协议内容', m.agreement || '—'],
    ]
  }
  return []
}

// tipLevelType colours a tip's level as officers read it: the higher, the hotter.
export function tipLevelType(level: string): 'info' | 'warning' | 'danger' | 'primary' {
  return level === 'critical' || level === 'major' ? 'danger' : level === 'serious' ? 'warning' : 'info'
}

export function when(s?: string): string {
  if (!s) return ''
  const d = new Date(s)
  if (isNaN(d.getTime())) return s
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

import type { components } from '../../api/schema'

export type Overview = components['schemas']['StatsOverview']
export type RegionTable = components['schemas']['StatsRegionTable']
export type RegionRow = components['schemas']['StatsRegionRow']
export type Deadline = components['schemas']['StatsDeadline']

// The colours of the four record kinds, the same on every chart; dark enough on white (3:1 for
// graphics) and told apart by position and legend as well as colour.
export const kindColours: Record<string, string> = {
  visit: '#1f63d1',
  sentiment: '#2b7a2b',
  tip: '#c0262d',
  mediation: '#8a5300',
}
const WITHIN = '#2b7a2b'
const OVER = '#c0262d'
const WAITING = '#8c9096'

export function percent(v: number | null | undefined, digits = 1): string {
  return v == null ? '—' : (v * 100).toFixed(digits) + '%'
}

// share is part over whole, or null when there is no whole.
export function share(part: number, whole: number): number | null {
  return whole ? part / whole : null
}

// minutes shows a duration in minutes as an officer reads it: 12 分钟, 3.5 小时, 2.1 天.
export function minutes(v: number | null | undefined): string {
  if (v == null) return '—'
  if (v < 60) return `${+v.toFixed(1)} 分钟`
  if (v < 1440) return `${+(v / 60).toFixed(1)} 小时`
  return `${+(v / 1440).toFixed(1)} 天`
}

// onTimeRate is the share of acknowledged tips acknowledged within their level's deadline.
export function onTimeRate(d: Deadline): number | null {
  const n = d.within_deadline + d.over_deadline
  return n ? d.within_deadline / n : null
}

const axisLabel = { color: '#45484d' }

// trendOption is the records of the period by month and kind: stacked bars, the total as a line.
export function trendOption(ov: Overview, kinds: { code: string; label: string }[]) {
  const months = ov.records.by_month.map((m) => m.month)
  return {
    aria: { enabled: true, decal: { show: false } },
    color: kinds.map((k) => kindColours[k.code] ?? '#5f6368'),
    tooltip: { trigger: 'axis' },
    legend: { top: 0, textStyle: axisLabel },
    grid: { left: 40, right: 16, top: 40, bottom: 28 },
    xAxis: { type: 'category', data: months, axisLabel },
    yAxis: { type: 'value', minInterval: 1, axisLabel },
    series: [
      ...kinds.map((k) => ({
        name: k.label,
        type: 'bar',
        stack: 'records',
        barMaxWidth: 36,
        data: ov.records.by_month.map((m) => m.by_kind[k.code] ?? 0),
      })),
      { name: '合计', type: 'line', data: ov.records.by_month.map((m) => m.total), color: '#20242c', symbolSize: 6 },
    ],
  }
}

// ackOption is each tip level's acknowledged tips within and over the level's deadline, and
// those not acknowledged yet (waiting, or escalated unacknowledged).
export function ackOption(ov: Overview) {
  const levels = ov.tips.by_level
  const waiting = levels.map((l) => Math.max(0, l.count - l.acknowledge.count))
  return {
    aria: { enabled: true, decal: { show: false } },
    color: [WITHIN, OVER, WAITING],
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0, textStyle: axisLabel },
    grid: { left: 40, right: 16, top: 40, bottom: 28 },
    xAxis: {
      type: 'category',
      data: levels.map((l) => `${l.label}(时限 ${minutes(l.acknowledge.deadline_minutes)})`),
      axisLabel: { ...axisLabel, interval: 0, fontSize: 11 },
    },
    yAxis: { type: 'value', minInterval: 1, axisLabel },
    series: [
      { name: '时限内签收', type: 'bar', stack: 'ack', barMaxWidth: 48, data: levels.map((l) => l.acknowledge.within_deadline) },
      { name: '超时签收', type: 'bar', stack: 'ack', barMaxWidth: 48, data: levels.map((l) => l.acknowledge.over_deadline) },
      { name: '尚未签收', type: 'bar', stack: 'ack', barMaxWidth: 48, data: waiting },
    ],
  }
}

// barOption is one dimension's counts as horizontal bars, largest first (at most top of them).
export function barOption(items: { label: string; count: number }[], colour: string, top = 12) {
  const rows = [...items].filter((i) => i.count > 0).sort((a, b) => b.count - a.count).slice(0, top).reverse()
  return {
    aria: { enabled: true, decal: { show: false } },
    color: [colour],
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1, axisLabel },
    yAxis: { type: 'category', data: rows.map((r) => r.label), axisLabel },
    series: [{ type: 'bar', data: rows.map((r) => r.count), barMaxWidth: 18, label: { show: true, position: 'right', color: '#1f2329' } }],
  }
}

// The ranked table's columns that can be sorted, and how a row compares on each: the API gives
// rows in code order; a null (no instructor, no mediation) sorts last either way.
export type RankKey =
  | 'active_instructors'
  | 'inactive_instructors'
  | 'units_without_instructor'
  | 'heavy_units_without_instructor'
  | 'records'
  | 'records_per_instructor'
  | 'tips'
  | 'on_time'
  | 'ack_median'
  | 'settlement_rate'

export function rankValue(r: RegionRow, key: RankKey): number | null {
  switch (key) {
    case 'on_time':
      return onTimeRate(r.acknowledge)
    case 'ack_median':
      return r.acknowledge.median_minutes ?? null
    default:
      return (r[key] as number | null | undefined) ?? null
  }
}

export function ranked(rows: RegionRow[], key: RankKey, desc: boolean): RegionRow[] {
  return [...rows].sort((a, b) => {
    const x = rankValue(a, key)
    const y = rankValue(b, key)
    if (x == null && y == null) return a.region.code.localeCompare(b.region.code)
    if (x == null) return 1
    if (y == null) return -1
    return (desc ? y - x : x - y) || a.region.code.localeCompare(b.region.code)
  })
}

// The level a region's children are at, in words.
export const childLevelName: Record<string, string> = { province: '市', city: '县(市、区)', county: '乡镇(街道)', township: '村(社区)' }

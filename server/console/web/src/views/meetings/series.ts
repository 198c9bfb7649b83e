import type { components } from '../../api/schema'

type SeriesInput = components['schemas']['MeetingSeriesInput']
type Frequency = components['schemas']['MeetingFrequency']

// The rule form of a recurring meeting, as the page holds it.
export type RuleForm = {
  frequency: Frequency
  weekday: number
  week_of_month: 1 | 2 | 3 | 4 | -1
  month_day: number
  start_time: string
  duration_minutes: number
  starts_on: string
  end: 'count' | 'until'
  count: number
  until: string
}

export const weekdays = ['星期一', '星期二', '星期三', '星期四', '星期五', '星期六', '星期日'].map((label, i) => ({ value: i + 1, label }))
export const weeks = [
  { value: 1, label: '第一个' },
  { value: 2, label: '第二个' },
  { value: 3, label: '第三个' },
  { value: 4, label: '第四个' },
  { value: -1, label: '最后一个' },
] as const

export function newRuleForm(): RuleForm {
  return {
    frequency: 'monthly_weekday',
    weekday: 1,
    week_of_month: 1,
    month_day: 1,
    start_time: '09:00',
    duration_minutes: 120,
    starts_on: '',
    end: 'count',
    count: 12,
    until: '',
  }
}

// ruleFields is the rule part of the request: only the fields the chosen frequency uses (the
// API refuses the others), and one end.
export function ruleFields(f: RuleForm): Pick<
  SeriesInput,
  'frequency' | 'weekday' | 'week_of_month' | 'month_day' | 'start_time' | 'duration_minutes' | 'starts_on' | 'until' | 'count'
> {
  const out: ReturnType<typeof ruleFields> = { frequency: f.frequency, start_time: f.start_time, duration_minutes: f.duration_minutes }
  if (f.frequency === 'weekly' || f.frequency === 'monthly_weekday') out.weekday = f.weekday
  if (f.frequency === 'monthly_weekday') out.week_of_month = f.week_of_month
  if (f.frequency === 'monthly_day') out.month_day = f.month_day
  if (f.starts_on) out.starts_on = f.starts_on
  if (f.end === 'count') out.count = f.count
  else out.until = f.until
  return out
}

// ruleText says the rule in words, as the API's rule_text does: "每月第一个星期一 09:00".
export function ruleText(f: RuleForm): string {
  const wd = weekdays[f.weekday - 1]?.label ?? ''
  const when =
    f.frequency === 'weekly'
      ? '每周' + wd
      : f.frequency === 'monthly_day'
        ? `每月${f.month_day}日`
        : '每月' + (weeks.find((w) => w.value === f.week_of_month)?.label ?? '') + wd
  return `${when} ${f.start_time}`
}

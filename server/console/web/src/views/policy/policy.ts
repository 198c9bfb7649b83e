import type { components } from '../../api/schema'

type Kind = components['schemas']['SupportKind']
type Grade = components['schemas']['AssessmentGrade']

// The code lists of support, assessments and the central adjustment, as the API names them.
export const supportKinds: { code: Kind; label: string }[] = [
  { code: 'visit_care', label: '走访慰问' },
  { code: 'periodicals', label: '订阅报刊' },
  { code: 'other', label: '其他' },
]

export const grades: { code: Grade; label: string }[] = [
  { code: 'excellent', label: '优秀' },
  { code: 'competent', label: '合格' },
  { code: 'basically_competent', label: '基本合格' },
  { code: 'incompetent', label: '不合格' },
]

// the reasons of the measures §五(三), the roster's adjust_reason
export const reasons = [
  { code: 'performance', label: '个人发挥作用情况' },
  { code: 'own_wish', label: '本人意愿' },
  { code: 'health', label: '身体健康状况' },
  { code: 'job_change', label: '工作岗位或职务变动' },
  { code: 'other', label: '其他' },
] as const

export type Reason = (typeof reasons)[number]['code']

export const memberStates = [
  { code: 'pending', label: '待决定' },
  { code: 'overdue', label: '任期已届满未决定' },
  { code: 'renew', label: '续聘' },
  { code: 'replace', label: '替换' },
  { code: 'end', label: '不再续聘' },
  { code: 'elsewhere', label: '已在名册中另行处理' },
] as const

// the years statistics and assessments are asked for: this one and the five before
export function statsYears(now = new Date()): number[] {
  const y = now.getFullYear()
  return [y, y - 1, y - 2, y - 3, y - 4, y - 5]
}

// the date of today in the browser, "2025-05-01"
export function today(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`
}

// Launching a round is the province's and the cities'; deciding the counties'.
export function canLaunchRound(role?: string): boolean {
  return role === 'province_staff' || role === 'city_staff'
}

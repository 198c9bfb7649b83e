import type { components } from '../../api/schema'

type Method = components['schemas']['TrainingMethod']
type Topic = components['schemas']['TrainingTopic']

// Plans and sessions are made by province and city officers (the API refuses counties); counties
// enrol their instructors and record who came.
export function canOrganiseTraining(role?: string): boolean {
  return role === 'province_staff' || role === 'city_staff'
}

// Only the level that made a plan or holds a session changes it (the API refuses the levels above
// and below, which only look).
export function canChangeTraining(role: string | undefined, ownRegion: string | undefined, regionCode: string): boolean {
  return canOrganiseTraining(role) && !!ownRegion && ownRegion === regionCode
}

// the years the API accepts for a plan: the two before, this one and the next
export function trainingYears(now = new Date()): number[] {
  const y = now.getFullYear()
  return [y + 1, y, y - 1, y - 2]
}

export const trainingMethods: { code: Method; label: string }[] = [
  { code: 'lecture', label: '专家授课' },
  { code: 'seminar', label: '交流研讨' },
  { code: 'mutual_inspection', label: '互观互检' },
  { code: 'field_trip', label: '外出考察' },
]

// the topics the measures name (§五(二)); a session has at least one
export const trainingTopics: { code: Topic; label: string }[] = [
  { code: 'ethnic_theory_policy', label: '民族理论政策' },
  { code: 'laws_regulations', label: '法律法规' },
  { code: 'creation_practice', label: '创建实务' },
]

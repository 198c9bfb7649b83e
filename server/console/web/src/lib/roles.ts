import type { RouteLocationRaw } from 'vue-router'

// What each role may do in the console, as the API decides it (docs/sessions.md): the console
// only hides what a role cannot use.

export const roleNames: Record<string, string> = {
  county_staff: '县级民族工作部门',
  city_staff: '市级民族工作部门',
  province_staff: '省级民族工作部门',
  admin: '系统管理员',
  security_admin: '安全管理员',
  audit_admin: '审计管理员',
  instructor: '指导员',
}

// the officers' roles, by level (a lower level is a larger number)
export const officerLevels: Record<string, number> = { province_staff: 1, city_staff: 2, county_staff: 3 }

export function isOfficer(role?: string): boolean {
  return !!role && role in officerLevels
}

// canListAccounts: the system and security administrators, and officers with a level below them.
export function canManageAccounts(role?: string): boolean {
  return role === 'admin' || role === 'security_admin' || role === 'city_staff' || role === 'province_staff'
}

// canChangeAccounts: create, edit, disable, enable, reset (the security administrator only
// unlocks and ends sessions).
export function canChangeAccounts(role?: string): boolean {
  return role === 'admin' || role === 'city_staff' || role === 'province_staff'
}

export function canUnlock(role?: string): boolean {
  return role === 'security_admin'
}

// rolesManagedBy are the officer roles an account of role may create: the administrator every
// one, an officer those below their own level.
export function rolesManagedBy(role?: string): string[] {
  if (role === 'admin') return ['province_staff', 'city_staff', 'county_staff']
  const mine = officerLevels[role ?? '']
  if (!mine) return []
  return Object.keys(officerLevels).filter((r) => officerLevels[r] > mine)
}

// Robot groups and the delivery log: officers and the system administrator (requireGroupManager in
// server/notify); the on-duty switch is the officers' own.
export function canManageNotifications(role?: string): boolean {
  return isOfficer(role) || role === 'admin'
}

export function homeRoute(role?: string): RouteLocationRaw {
  if (isOfficer(role)) return { name: 'units' }
  if (canManageAccounts(role)) return { name: 'accounts' }
  // the audit administrator reads the trail and nothing else
  if (role === 'audit_admin') return { name: 'audit' }
  return { name: 'forbidden' }
}

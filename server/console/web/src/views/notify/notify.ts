import type { components } from '../../api/schema'

export type Group = components['schemas']['NotificationGroup']
export type Audience = components['schemas']['GroupAudience']
export type Delivery = components['schemas']['Notification']

export const audiences: { code: Audience; label: string; levels: [number, number] }[] = [
  // region levels the API accepts for each audience (server/notify audienceLevels): 1 province … 5 village
  { code: 'instructors', label: '指导员群', levels: [3, 5] },
  { code: 'county_staff', label: '县级工作人员群', levels: [3, 3] },
  { code: 'city_staff', label: '市级工作人员群', levels: [2, 2] },
  { code: 'province_staff', label: '省级工作人员群', levels: [1, 1] },
]

export function audienceLabel(a: string): string {
  return audiences.find((x) => x.code === a)?.label ?? a
}

export const deliveryStatuses = [
  { code: 'pending', label: '待发送', tag: 'info' },
  { code: 'sending', label: '发送中', tag: 'primary' },
  { code: 'sent', label: '已送达', tag: 'success' },
  { code: 'failed', label: '失败', tag: 'danger' },
  { code: 'skipped', label: '已跳过', tag: 'warning' },
] as const

export const channels = [
  { code: 'robot', label: '企业微信群机器人' },
  { code: 'subscribe', label: '小程序订阅消息' },
]

// The same rule as the server's wechat.ParseWebhookKey: a bare key of 1-128 [A-Za-z0-9_-], or the
// whole webhook address WeCom shows (…/cgi-bin/webhook/send?key=…). Checked here only to answer
// at once; the API checks again.
const KEY = /^[A-Za-z0-9_-]{1,128}$/
export function webhookProblem(raw: string): string {
  const s = raw.trim()
  if (!s) return '请填写群机器人的 webhook 地址'
  let key = s
  if (s.includes('/') || s.includes('?')) {
    let u: URL
    try {
      u = new URL(s, 'https://qyapi.weixin.qq.com')
    } catch {
      return WEBHOOK_HINT
    }
    if (u.pathname !== '/cgi-bin/webhook/send') return WEBHOOK_HINT
    key = u.searchParams.get('key') ?? ''
  }
  return KEY.test(key) ? '' : WEBHOOK_HINT
}

export const WEBHOOK_HINT = '应为企业微信群机器人的 webhook 地址(https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…)或其中的 key'

import dayjs from 'dayjs'

// fmt shows an API time (RFC 3339) as the officer reads it: 2026-12-05 14:00.
export function fmt(t: string | undefined | null): string {
  return t ? dayjs(t).format('YYYY-MM-DD HH:mm') : ''
}

// The pickers' value format: RFC 3339 with the browser's offset, as the API wants.
export const RFC3339 = 'YYYY-MM-DDTHH:mm:ssZ'

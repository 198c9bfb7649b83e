// meetingStatusType is the tag colour of a meeting's status.
export function meetingStatusType(s: string) {
  return s === 'ongoing' ? 'success' : s === 'upcoming' ? 'primary' : s === 'cancelled' ? 'danger' : 'info'
}

// Meeting check-in codes: the organiser's phone shows a QR code whose content is
// shiliu://meetings/{id}/checkin?token=… (CheckinToken.qr_payload); the instructor's phone scans it
// and sends the token (POST /api/v1/meetings/{id}/checkin {token}).
'use strict'

const QR_RE = /^shiliu:\/\/meetings\/(\d+)\/checkin\?(?:.*&)?token=([^&#\s]+)/

/** The meeting and token in a scanned code; null when the text is not a check-in code. */
function parseCheckinCode(text) {
  const m = QR_RE.exec(String(text || '').trim())
  if (!m) return null
  let token = m[2]
  try {
    token = decodeURIComponent(token)
  } catch (e) {
    // keep it as scanned
  }
  return {meetingId: Number(m[1]), token}
}

module.exports = {parseCheckinCode}

// UUID v4 (RFC 4122) for a record's client_id, made on the phone when the draft is created so a
// retried submission is recognised by the server and stored once.
'use strict'

function randomBytes(n) {
  const out = new Array(n)
  for (let i = 0; i < n; i++) out[i] = Math.floor(Math.random() * 256)
  return out
}

function uuidv4(bytes) {
  const b = bytes || randomBytes(16)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = b.map(x => (x + 0x100).toString(16).slice(1)).join('')
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20)
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

module.exports = {uuidv4, UUID_RE}

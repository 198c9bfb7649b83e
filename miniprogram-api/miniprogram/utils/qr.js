// A QR code for the meeting check-in token, drawn on a canvas. The matrix comes from
// qrcode-generator (Kazuhiko Arase's, MIT, plain JS, no DOM needed), packed by build-npm.
'use strict'

function qrFactory() {
  try {
    return require('qrcode-generator') // miniprogram_npm in WeChat, node_modules in tests
  } catch (e) {
    return null
  }
}

/** The module matrix (true = dark) for a text, error correction M; null if it cannot be made. */
function matrix(text) {
  const qrcode = qrFactory()
  if (!qrcode || !text) return null
  const qr = qrcode(0, 'M')
  qr.addData(String(text))
  qr.make()
  const n = qr.getModuleCount()
  const rows = []
  for (let r = 0; r < n; r++) {
    const row = []
    for (let c = 0; c < n; c++) row.push(qr.isDark(r, c))
    rows.push(row)
  }
  return rows
}

/** Draws a matrix on a 2d canvas context, with a 4-module quiet zone. */
function draw(ctx, m, sizePx) {
  const n = m.length + 8
  const cell = sizePx / n
  ctx.fillStyle = '#ffffff'
  ctx.fillRect(0, 0, sizePx, sizePx)
  ctx.fillStyle = '#000000'
  for (let r = 0; r < m.length; r++) {
    for (let c = 0; c < m.length; c++) {
      if (m[r][c]) ctx.fillRect(Math.floor((c + 4) * cell), Math.floor((r + 4) * cell), Math.ceil(cell), Math.ceil(cell))
    }
  }
}

module.exports = {matrix, draw}

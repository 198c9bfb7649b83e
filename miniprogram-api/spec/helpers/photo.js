// Deterministic JPEG "phone photos" for the integration test and the field measurement.
// wx.chooseMedia with sizeType ['compressed'] hands over a JPEG of roughly 60–100 KB for a phone
// photo (long side about 1280 px); photo(…) makes one of about that size: a sky-to-ground gradient
// with houses, trees and sensor noise, so it compresses like a photo rather than like a flat
// colour. The same seed gives the same bytes.
'use strict'
const jpeg = require('jpeg-js')
const {rng} = require('./faulty-proxy')

/**
 * @param {object} [o]
 * @param {number} [o.width]
 * @param {number} [o.height]
 * @param {number} [o.seed]
 * @param {number} [o.quality] JPEG quality 1–100
 * @param {number} [o.noise] amplitude of the per-pixel noise
 * @returns {Buffer}
 */
function photo(o) {
  const opts = Object.assign({width: 1280, height: 960, seed: 1, quality: 60, noise: 8}, o || {})
  const {width: w, height: h} = opts
  const r = rng(opts.seed)
  const data = Buffer.alloc(w * h * 4)
  const horizon = Math.floor(h * (0.45 + r() * 0.1))
  const shapes = []
  for (let i = 0; i < 14; i++) {
    const x = Math.floor(r() * w)
    const bw = Math.floor(w * (0.05 + r() * 0.12))
    const bh = Math.floor(h * (0.08 + r() * 0.2))
    shapes.push({x, y: horizon - bh + Math.floor(r() * h * 0.2), w: bw, h: bh, c: [150 + r() * 90, 120 + r() * 80, 100 + r() * 80], tree: r() < 0.4})
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let c
      if (y < horizon) {
        const t = y / horizon
        c = [110 + 90 * t, 160 + 60 * t, 230 - 20 * t]
      } else {
        const t = (y - horizon) / (h - horizon)
        c = [120 - 50 * t + 20 * Math.sin(x / 37), 110 - 30 * t + 15 * Math.sin(y / 23), 70 - 20 * t]
      }
      for (const s of shapes) {
        if (x >= s.x && x < s.x + s.w && y >= s.y && y < s.y + s.h) {
          if (s.tree) {
            const dx = (x - s.x - s.w / 2) / (s.w / 2)
            const dy = (y - s.y - s.h / 2) / (s.h / 2)
            if (dx * dx + dy * dy < 1) c = [40 + 30 * Math.sin(x / 5), 100 + 40 * Math.sin(y / 7), 40]
          } else {
            const stripe = (Math.floor((y - s.y) / 9) % 2) * 18
            c = [s.c[0] - stripe, s.c[1] - stripe, s.c[2] - stripe]
          }
        }
      }
      const i = (y * w + x) * 4
      for (let k = 0; k < 3; k++) data[i + k] = Math.max(0, Math.min(255, c[k] + (r() - 0.5) * 2 * opts.noise))
      data[i + 3] = 255
    }
  }
  return jpeg.encode({data, width: w, height: h}, opts.quality).data
}

module.exports = {photo}

// Code lists (GET /api/v1/dictionaries), cached on the phone for offline forms; the built-in
// lists are used until the server's arrive.
'use strict'
const {getClient} = require('../api/client')
const {FALLBACK_DICTIONARIES} = require('./records')

const KEY = 'dict.cache'

function cached() {
  let c = null
  try {
    c = wx.getStorageSync(KEY)
  } catch (e) {
    c = null
  }
  return Object.assign({}, FALLBACK_DICTIONARIES, c && typeof c === 'object' ? c : {})
}

/** Resolves with the freshest lists it can get (never rejects: offline gets the cache). */
function load() {
  return getClient().get('/api/v1/dictionaries', null, {auth: false}).then(d => {
    const keep = {}
    Object.keys(d || {}).forEach(k => {
      if (Array.isArray(d[k])) keep[k] = d[k].map(c => ({code: c.code, label: c.label}))
    })
    try {
      wx.setStorageSync(KEY, keep)
    } catch (e) {
      // the built-in lists will do
    }
    return Object.assign({}, FALLBACK_DICTIONARIES, keep)
  }, () => cached())
}

module.exports = {load, cached}

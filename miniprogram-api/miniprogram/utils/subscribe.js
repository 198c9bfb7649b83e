// Subscribe messages: WeChat lets the server push one message per "accept" the user gives in
// wx.requestSubscribeMessage (which must be called from a tap). The result goes to the server,
// POST /api/v1/subscriptions {results: {templateId: "accept" | "reject" | "ban" | "filter"}}.
'use strict'
const config = require('../config')
const {getClient} = require('../api/client')

/** Asks for the named templates (config.templates); resolves with the results, or null. */
function requestSubscribe(names) {
  const ids = names.map(n => config.templates[n]).filter(Boolean)
  if (!ids.length || !wx.requestSubscribeMessage) return Promise.resolve(null)
  return new Promise(resolve => {
    wx.requestSubscribeMessage({
      tmplIds: ids,
      success: res => {
        const results = {}
        ids.forEach(id => {
          if (res[id]) results[id] = res[id]
        })
        getClient().post('/api/v1/subscriptions', {results}).then(() => resolve(results), () => resolve(results))
      },
      fail: () => resolve(null),
    })
  })
}

module.exports = {requestSubscribe}

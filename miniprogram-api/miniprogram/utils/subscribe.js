// Subscribe messages: WeChat lets the server push one message per "accept" the user gives in
// wx.requestSubscribeMessage (which must be called from a tap). The result goes to the server,
// POST /api/v1/subscriptions {results: {templateId: "accept" | "reject" | "ban" | "filter"}}.
// WeChat takes at most 3 templates a call, and one call a tap: callers name at most 3, in order of
// importance, and only templates configured in config.templates are asked for.
'use strict'
const config = require('../config')
const {getClient} = require('../api/client')

const MAX_PER_CALL = 3

/**
 * The tip alerts a staff member can receive, by role (the server's recipients of tip.submitted and
 * tip.escalated, docs/notifications.md): county staff hear of new tips; city staff of major and
 * critical new tips and of tips escalated to the city; province staff of tips escalated to the
 * province.
 * @param {{role?: string} | null} user
 */
function staffTipTemplates(user) {
  const role = user && user.role
  if (role === 'city_staff') return ['tip_submitted', 'tip_escalated']
  if (role === 'province_staff') return ['tip_escalated']
  return ['tip_submitted']
}

/** Asks for the named templates (config.templates); resolves with the results, or null. */
function requestSubscribe(names) {
  const ids = names.map(n => config.templates[n]).filter((id, i, all) => id && all.indexOf(id) === i).slice(0, MAX_PER_CALL)
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

module.exports = {requestSubscribe, staffTipTemplates, MAX_PER_CALL}

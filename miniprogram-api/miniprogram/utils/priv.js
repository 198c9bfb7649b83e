// Per-instance private state of a page or component (timers, the recorder, subscriptions), kept
// out of `data` so it is never sent to the view layer.
'use strict'
const store = new WeakMap()

/** @returns {Record<string, any>} */
function priv(instance) {
  let s = store.get(instance)
  if (!s) {
    s = {}
    store.set(instance, s)
  }
  return s
}

module.exports = {priv}

// The app shell: starts the outbox, resumes sending when the app comes back to the front, and
// sends the user to the login page when the session cannot be renewed.
const {getClient} = require('./api/client')
const {getOutbox} = require('./outbox/outbox')
const {goLogin} = require('./utils/nav')

App({
  onLaunch() {
    const client = getClient()
    const outbox = getOutbox()
    client.onSessionExpired(() => goLogin('登录已失效,请重新登录。未上传的记录仍在手机上,登录后自动上传。'))
    outbox.onAuthRequired(() => goLogin('登录已失效,请重新登录。未上传的记录仍在手机上,登录后自动上传。'))
    outbox.init()
  },
  onShow() {
    // back from the background, or the phone woke up: try what is waiting at once
    getOutbox().flush({force: true})
  },
})

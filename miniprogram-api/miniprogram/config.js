// Deployment settings of the mini-program. Change baseURL before uploading a build: it must be an
// HTTPS domain on the mini-program's request and uploadFile whitelists (see README.md).
module.exports = {
  // The Shiliu server, without a trailing slash. http://127.0.0.1:8080 works only in WeChat
  // DevTools with "不校验合法域名" ticked.
  baseURL: 'https://shiliu.example.gov.cn',
  // Per-request time limit (ms). WeChat allows at most 60 s.
  requestTimeout: 20000,
  // Uploads of photos and voice notes over a weak network take longer.
  uploadTimeout: 60000,
  // WeChat allows at most 10 concurrent network requests; the client queues the rest.
  maxConcurrent: 10,
  // Subscribe-message template ids chosen in the mini-program console (订阅消息). Empty ids are
  // skipped, so the app works before they are configured. The server must be configured with the
  // same ids (SHILIU_NOTIFY_TEMPLATE_*).
  templates: {
    // to county staff: a new tip arrived
    tip_submitted: '',
    // to the instructor: staff acknowledged / resolved the tip, returned a record, answered a report
    tip_acknowledged: '',
    record_returned: '',
    sentiment_answered: '',
    meeting_scheduled: '',
  },
}

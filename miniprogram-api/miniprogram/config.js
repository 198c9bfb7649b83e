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
    // to county staff (major and critical tips: city staff too): a new tip arrived
    tip_submitted: '',
    // to city / province staff: a tip was escalated to them (by the county, or its acknowledge
    // deadline passed)
    tip_escalated: '',
    // to the instructor: staff acknowledged / resolved the tip, returned a record, answered a report
    tip_acknowledged: '',
    record_returned: '',
    sentiment_answered: '',
    // to the instructor: meeting notices (the server's notify.templates of the same names)
    meeting_scheduled: '',
    meeting_reminder: '',
    meeting_changed: '',
    meeting_cancelled: '',
    // to the instructor: a task was assigned to me (server template task_assigned)
    task_assigned: '',
    // to the instructor: enrolled in a training session, and the reminder before it
    training_enrolled: '',
    training_reminder: '',
    // to the instructor: the county answered my suggestion
    suggestion_answered: '',
    // to the instructor: a bulletin I had read was corrected or withdrawn
    bulletin_corrected: '',
    bulletin_withdrawn: '',
  },
}

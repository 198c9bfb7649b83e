// Limits the server sets on what a phone sends, kept here once so that every form stops at them
// (a record saved offline and refused days later, when the phone is back online, costs the
// instructor a trip back to the form).
'use strict'

/**
 * How many attachments (photos and recordings) one record or task report may have. It is the
 * server's (upload.MaxAttachments), which openapi.yaml states as maxItems of every request's
 * `attachments`: server/httpapi's contract test keeps the server and the contract equal,
 * spec/limits.test.js keeps this and the contract equal. The server does not send it at run
 * time; the forms need it offline anyway.
 */
const MAX_ATTACHMENTS = 9

module.exports = {MAX_ATTACHMENTS}

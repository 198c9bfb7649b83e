'use strict'
// The contract checker the page tests rely on: it refuses the shapes the pages once guessed, and the
// fixtures the page tests answer with are complete answers per openapi.yaml.
const {describe, it} = require('node:test')
const assert = require('node:assert/strict')
const {checkExchange, validate, schema} = require('./helpers/contract')
const F = require('./helpers/fixtures')

const URL = 'https://api.test'

describe('contract checker', () => {
  it('refuses the shapes guessed before the server had them', () => {
    const problems = [
      checkExchange({method: 'POST', url: URL + '/api/v1/meetings/6/rsvp', data: {attending: true}}, null),
      checkExchange({method: 'POST', url: URL + '/api/v1/bulletins/8/read', data: {}}, null),
      checkExchange({method: 'GET', url: URL + '/api/v1/bulletins/unread-count'}, {statusCode: 200, data: {count: 3}}),
      checkExchange({method: 'GET', url: URL + '/api/v1/meetings/6/checkin-token'}, {statusCode: 200, data: {token: 'T', expires_in: 60}}),
      checkExchange({method: 'GET', url: URL + '/api/v1/meetings?upcoming=true&limit=1'}, null),
      checkExchange({method: 'PUT', url: URL + '/api/v1/me/duty', data: {duty: true}}, null),
      checkExchange({method: 'POST', url: URL + '/api/v1/tips', data: {client_id: 'x', title: 't', occurred_at: F.iso(0), level: 'general'}}, null),
    ]
    problems.forEach((p, i) => assert.ok(p.length > 0, 'case ' + i + ' passed the checker'))
    assert.match(problems[0].join('\n'), /property attending is not in the contract/)
    assert.match(problems[0].join('\n'), /missing required answer/)
    assert.match(problems[1].join('\n'), /no such route/)
    assert.match(problems[2].join('\n'), /missing required unread/)
    assert.match(problems[3].join('\n'), /missing required qr_payload/)
    assert.match(problems[4].join('\n'), /query parameter upcoming is not in the contract/)
    assert.match(problems[6].join('\n'), /missing required tip/)
  })

  it('accepts what the pages send now', () => {
    const ok = [
      checkExchange({method: 'POST', url: URL + '/api/v1/meetings/6/rsvp', data: {answer: 'maybe'}}, {statusCode: 200, data: F.rsvped(F.meeting(), 'maybe')}),
      checkExchange({method: 'POST', url: URL + '/api/v1/meetings/6/checkin', data: {token: F.checkinToken(6).token}}, {statusCode: 200, data: F.checkedIn(F.meeting())}),
      checkExchange({method: 'GET', url: URL + '/api/v1/bulletins/8'}, {statusCode: 200, data: F.bulletinDetail()}),
      checkExchange({method: 'GET', url: URL + '/api/v1/bulletins/unread-count'}, {statusCode: 200, data: {unread: 3}}),
      checkExchange({method: 'PUT', url: URL + '/api/v1/me/duty', data: {on_duty: true}}, {statusCode: 200, data: {on_duty: true}}),
      checkExchange({method: 'GET', url: URL + '/api/v1/meetings?limit=20'}, {statusCode: 200, data: F.page([F.meeting()])}),
      checkExchange({method: 'POST', url: URL + '/api/v1/subscriptions', data: {results: {T1: 'accept'}}}, {statusCode: 200, data: F.subscriptions([{}])}),
      checkExchange({method: 'UPLOAD', url: URL + '/api/v1/uploads'}, {statusCode: 201, data: JSON.stringify(F.upload(3))}),
      // the outbox's upload: each file with its own client_id in the form
      checkExchange({method: 'UPLOAD', url: URL + '/api/v1/uploads', name: 'file', formData: {client_id: '9b1d4f7a-2c3e-4a5b-8c6d-7e8f9a0b1c2d'}},
        {statusCode: 201, data: JSON.stringify(F.upload(3))}),
      checkExchange({method: 'POST', url: URL + '/api/v1/tasks/12/reports', data: {client_id: '9b1d4f7a-2c3e-4a5b-8c6d-7e8f9a0b1c2d', text: '进展', done: false, attachments: [3]}},
        {statusCode: 201, data: F.taskReport()}),
      checkExchange({method: 'GET', url: URL + '/api/v1/me/training?year=2024'}, {statusCode: 200, data: F.myTraining(2024, [F.trainingSession()])}),
      checkExchange({method: 'GET', url: URL + '/api/v1/me/summary'}, {statusCode: 403, data: F.error(403, 'forbidden', '没有权限').data}),
    ]
    ok.forEach((p, i) => assert.deepEqual(p, [], 'case ' + i))
  })

  it('the fixtures are complete answers', () => {
    const cases = [
      ['Tokens', F.tokens()], ['Tokens', F.tokens(F.staffAccount())], ['Me', F.me()], ['Dictionaries', F.dictionaries()],
      ['RecordSummary', F.summary({visit: 1})], ['Meeting', F.meeting()], ['Meeting', F.rsvped(F.meeting(), 'yes')],
      ['Meeting', F.checkedIn(F.meeting(), 'location')], ['CheckinToken', F.checkinToken(6)], ['Attendance', F.attendance()],
      ['Bulletin', F.bulletin()], ['Bulletin', F.bulletinDetail({attachments: [F.upload(1)]})], ['Upload', F.upload(2)],
      ['Record', F.record()], ['Record', F.record({kind: 'visit'})], ['Record', F.record({kind: 'sentiment'})],
      ['Record', F.record({kind: 'mediation'})], ['Record', F.record({status: 'returned', status_name: '已退回修改', return_note: '补充'})],
      ['Record', F.record({timeline: [F.timelineStep()]})], ['Nomination', F.nomination()], ['SubscriptionList', F.subscriptions([{}])],
      ['RegionList', F.regions('city', [['131000000000', '廊坊市']])],
      ['Task', F.task()], ['Task', F.task({mine: {state: 'done', done_at: F.T0, report_count: 2, last_report_at: F.T0}})],
      ['Task', F.taskDetail({attachments: [F.upload(5)]})], ['TaskList', F.page([F.task()])],
      ['TaskReport', F.taskReport({attachments: [F.upload(6)], client_id: '3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17'})],
      ['TaskReportList', F.page([F.taskReport()])], ['TrainingSession', F.trainingSession()],
      ['TrainingSession', F.trainingSession({mode: 'online', mode_name: '线上', place: '', url: 'https://meeting.example.cn/j/1', mine: {status: 'enrolled', status_name: '已报名', hours: 0}})],
      ['MyTraining', F.myTraining(2024, [F.trainingSession()])], ['MyTraining', F.myTraining(2024, [])],
    ]
    for (const [name, value] of cases) assert.deepEqual(validate(value, schema(name)), [], name)
  })
})

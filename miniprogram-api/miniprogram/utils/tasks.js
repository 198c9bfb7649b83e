// Tasks assigned to me (交办任务, GET /api/v1/tasks with `mine`): how each is shown and in what
// order, shared by the task list and the home page.
'use strict'
const {formatTime} = require('./records')

const HOUR = 3600 * 1000
const DAY = 24 * HOUR

/** "已逾期3天", "还剩5小时", "还剩2天" from the due time; '' once done. */
function dueNote(dueAt, done, now) {
  const due = Date.parse(dueAt)
  if (done || isNaN(due)) return ''
  const left = due - now
  if (left < 0) {
    const days = Math.floor(-left / DAY)
    return days >= 1 ? '已逾期' + days + '天' : '已逾期'
  }
  if (left < HOUR) return '1小时内截止'
  if (left < DAY) return '还剩' + Math.floor(left / HOUR) + '小时'
  return '还剩' + Math.floor(left / DAY) + '天'
}

/** What a card shows of a task; `mine` is my own state (instructors always have it). */
function taskView(t, now) {
  const mine = t.mine || {state: 'assigned', state_name: '未开始', overdue: !!t.overdue, report_count: 0}
  const done = mine.state === 'done'
  return {
    id: t.id,
    title: t.title,
    description: t.description || '',
    issuer: t.region_name || '',
    due: formatTime(t.due_at),
    due_ms: Date.parse(t.due_at) || 0,
    state: mine.state,
    state_name: mine.state_name,
    done,
    overdue: !done && !!(t.mine ? mine.overdue : t.overdue),
    due_note: dueNote(t.due_at, done, now),
    report_count: mine.report_count || 0,
    done_at: mine.done_at ? formatTime(mine.done_at) : '',
  }
}

/** Not done first, the earliest due first (so the overdue lead); then the done, latest due first. */
function sortTasks(views) {
  return views.slice().sort((a, b) => {
    if (a.done !== b.done) return a.done ? 1 : -1
    if (!a.done) return a.due_ms - b.due_ms || b.id - a.id
    return b.due_ms - a.due_ms || b.id - a.id
  })
}

/** For the home page: how many are not done, how many of them overdue, and the nearest due. */
function summarize(items, now) {
  const open = sortTasks((items || []).map(t => taskView(t, now))).filter(v => !v.done)
  return {open: open.length, overdue: open.filter(v => v.overdue).length, next: open[0] || null}
}

module.exports = {dueNote, taskView, sortTasks, summarize}

import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { onSessionEnded, refresh } from './api/client'
import { mustChangePassword, session } from './api/session'
import { canManageAccounts, canManageNotifications, homeRoute, isOfficer } from './lib/roles'

// Every page is its own chunk: a first visit downloads the login page and the layout only.
export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true, title: '登录' } },
  // the check-in code on the projector: a page of its own, outside the menu and header
  {
    path: '/meetings/:id(\\d+)/checkin-qr',
    name: 'meeting-checkin',
    component: () => import('./views/meetings/MeetingCheckinView.vue'),
    meta: { title: '例会签到二维码' },
  },
  // outside the layout: an account that must change its password may call nothing else
  { path: '/password', name: 'change-password', component: () => import('./views/ChangePasswordView.vue'), meta: { title: '修改密码' } },
  {
    path: '/',
    component: () => import('./layout/ConsoleLayout.vue'),
    children: [
      { path: '', name: 'home', redirect: () => homeRoute(session.user?.role) },
      { path: 'dashboard', name: 'dashboard', component: () => import('./views/stats/DashboardView.vue'), meta: { title: '统计概况' } },
      {
        path: 'stats/inactive-instructors',
        name: 'inactive-instructors',
        component: () => import('./views/stats/InactiveInstructorsView.vue'),
        meta: { title: '90天无记录的指导员' },
      },
      { path: 'accounts', name: 'accounts', component: () => import('./views/AccountsView.vue'), meta: { title: '账号', may: canManageAccounts } },
      { path: 'units', name: 'units', component: () => import('./views/UnitsView.vue'), meta: { title: '单位' } },
      {
        path: 'units/without-instructor',
        name: 'units-empty',
        component: () => import('./views/UnitsWithoutInstructorView.vue'),
        meta: { title: '无指导员的单位' },
      },
      { path: 'instructors', name: 'instructors', component: () => import('./views/InstructorsView.vue'), meta: { title: '指导员' } },
      {
        path: 'instructors/:id(\\d+)',
        name: 'instructor',
        component: () => import('./views/InstructorDetailView.vue'),
        meta: { title: '指导员详情' },
      },
      { path: 'invite-slips', name: 'invite-slips', component: () => import('./views/InviteSlipsView.vue'), meta: { title: '邀请单' } },
      { path: 'roster/import', name: 'roster-import', component: () => import('./views/RosterImportView.vue'), meta: { title: '名册导入导出' } },
      { path: 'nominations', name: 'nominations', component: () => import('./views/NominationsView.vue'), meta: { title: '推荐与聘任' } },
      { path: 'terms', name: 'terms', component: () => import('./views/TermsView.vue'), meta: { title: '任期' } },
      { path: 'filings', name: 'filings', component: () => import('./views/FilingsView.vue'), meta: { title: '备案' } },
      { path: 'filings/overview', name: 'filing-overview', component: () => import('./views/FilingOverviewView.vue'), meta: { title: '备案概况' } },
      { path: 'filings/:id(\\d+)', name: 'filing', component: () => import('./views/FilingDetailView.vue'), meta: { title: '备案详情' } },
      { path: 'meetings', name: 'meetings', component: () => import('./views/meetings/MeetingsView.vue'), meta: { title: '例会' } },
      { path: 'meetings/series', name: 'meeting-series', component: () => import('./views/meetings/SeriesView.vue'), meta: { title: '定期例会' } },
      { path: 'meetings/quiet-counties', name: 'meetings-quiet', component: () => import('./views/meetings/QuietCountiesView.vue'), meta: { title: '未按期召开例会的县' } },
      { path: 'meetings/:id(\\d+)', name: 'meeting', component: () => import('./views/meetings/MeetingDetailView.vue'), meta: { title: '例会详情' } },
      { path: 'bulletins', name: 'bulletins', component: () => import('./views/bulletins/BulletinsView.vue'), meta: { title: '工作简报' } },
      { path: 'bulletins/new', name: 'bulletin-new', component: () => import('./views/bulletins/BulletinComposeView.vue'), meta: { title: '写工作简报' } },
      { path: 'bulletins/:id(\\d+)', name: 'bulletin', component: () => import('./views/bulletins/BulletinDetailView.vue'), meta: { title: '工作简报详情' } },
      { path: 'shares', name: 'shares', component: () => import('./views/bulletins/SharesView.vue'), meta: { title: '经验分享' } },
      { path: 'tasks', name: 'tasks', component: () => import('./views/tasks/TasksView.vue'), meta: { title: '交办任务' } },
      { path: 'tasks/:id(\\d+)', name: 'task', component: () => import('./views/tasks/TaskDetailView.vue'), meta: { title: '任务详情' } },
      { path: 'training/plans', name: 'training-plans', component: () => import('./views/training/PlansView.vue'), meta: { title: '培训计划' } },
      { path: 'training/sessions', name: 'training-sessions', component: () => import('./views/training/SessionsView.vue'), meta: { title: '培训' } },
      {
        path: 'training/sessions/:id(\\d+)',
        name: 'training-session',
        component: () => import('./views/training/SessionDetailView.vue'),
        meta: { title: '培训详情' },
      },
      { path: 'training/hours', name: 'training-hours', component: () => import('./views/training/HoursView.vue'), meta: { title: '培训学时' } },
      { path: 'training/stats', name: 'training-stats', component: () => import('./views/training/TrainingStatsView.vue'), meta: { title: '培训统计' } },
      { path: 'support', name: 'support', component: () => import('./views/policy/SupportView.vue'), meta: { title: '支持指导员工作' } },
      { path: 'support/stats', name: 'support-stats', component: () => import('./views/policy/SupportStatsView.vue'), meta: { title: '支持与意见建议统计' } },
      { path: 'support/:id(\\d+)', name: 'support-record', component: () => import('./views/policy/SupportDetailView.vue'), meta: { title: '支持记录' } },
      { path: 'suggestions', name: 'suggestions', component: () => import('./views/policy/SuggestionsView.vue'), meta: { title: '意见建议' } },
      { path: 'assessments', name: 'assessments', component: () => import('./views/policy/AssessmentsView.vue'), meta: { title: '年度考核' } },
      { path: 'adjustments', name: 'adjustments', component: () => import('./views/policy/AdjustmentsView.vue'), meta: { title: '集中调整' } },
      { path: 'adjustments/:id(\\d+)', name: 'adjustment', component: () => import('./views/policy/AdjustmentDetailView.vue'), meta: { title: '集中调整详情' } },
      {
        path: 'notify/groups',
        name: 'notify-groups',
        component: () => import('./views/notify/GroupsView.vue'),
        meta: { title: '通知群', may: canManageNotifications },
      },
      {
        path: 'notify/deliveries',
        name: 'notify-deliveries',
        component: () => import('./views/notify/DeliveriesView.vue'),
        meta: { title: '发送记录', may: canManageNotifications },
      },
      { path: 'audit', name: 'audit', component: () => import('./views/audit/AuditView.vue'), meta: { title: '操作日志' } },
      { path: 'tip-desk', name: 'tip-desk', component: () => import('./views/TipDeskView.vue'), meta: { title: '线索台' } },
      {
        path: 'records/:kind(visits|sentiments|tips|mediations)',
        name: 'records',
        component: () => import('./views/RecordsView.vue'),
        meta: { title: '记录' },
      },
      {
        path: 'records/:kind(visits|sentiments|tips|mediations)/:id(\\d+)',
        name: 'record',
        component: () => import('./views/RecordDetailView.vue'),
        meta: { title: '记录详情' },
      },
      { path: '403', name: 'forbidden', component: () => import('./views/ForbiddenView.vue'), meta: { title: '没有权限' } },
      { path: ':rest(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue'), meta: { title: '页面不存在' } },
    ],
  },
]

export const router = createRouter({ history: createWebHistory('/'), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  // A reload: the server may still know this browser (the refresh cookie); otherwise log in.
  if (!session.accessToken && !(await refresh())) return { name: 'login', query: { redirect: to.fullPath } }
  if (mustChangePassword() && to.name !== 'change-password') {
    return { name: 'change-password', query: { redirect: to.fullPath } }
  }
  // Pages of one kind of user; the API refuses the others anyway. Field pages are the officers'.
  const may = to.meta.may as ((role?: string) => boolean) | undefined
  const fieldPage = !may && !['home', 'forbidden', 'not-found', 'change-password'].includes(String(to.name))
  if ((may && !may(session.user?.role)) || (fieldPage && !isOfficer(session.user?.role))) return { name: 'forbidden' }
  return true
})

router.afterEach((to) => {
  const t = to.meta.title as string | undefined
  document.title = (t ? t + ' · ' : '') + '石榴管理后台'
})

onSessionEnded(() => {
  const here = router.currentRoute.value
  if (here.name !== 'login') router.push({ name: 'login', query: { redirect: here.fullPath } })
})

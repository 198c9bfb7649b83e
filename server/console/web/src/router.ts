import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { onSessionEnded, refresh } from './api/client'
import { session } from './api/session'

// Every page is its own chunk: a first visit downloads the login page and the layout only.
export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true, title: '登录' } },
  {
    path: '/',
    component: () => import('./layout/ConsoleLayout.vue'),
    children: [
      { path: '', redirect: { name: 'units' } },
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
      { path: '403', name: 'forbidden', component: () => import('./views/ForbiddenView.vue'), meta: { title: '没有权限' } },
      { path: ':rest(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue'), meta: { title: '页面不存在' } },
    ],
  },
]

export const router = createRouter({ history: createWebHistory('/'), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (session.accessToken) return true
  // A reload: the server may still know this browser (the refresh cookie); otherwise log in.
  if (await refresh()) return true
  return { name: 'login', query: { redirect: to.fullPath } }
})

router.afterEach((to) => {
  const t = to.meta.title as string | undefined
  document.title = (t ? t + ' · ' : '') + '石榴管理后台'
})

onSessionEnded(() => {
  const here = router.currentRoute.value
  if (here.name !== 'login') router.push({ name: 'login', query: { redirect: here.fullPath } })
})

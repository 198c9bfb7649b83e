import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Component } from 'vue'
import { defineComponent, h } from 'vue'
import { RouterView } from 'vue-router'

const Blank = defineComponent({ render: () => h('div') })

// mountPage mounts a page under a real router at a URL, as the console does.
export async function mountPage(page: Component, path: string, name = 'units') {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/units', name: name === 'units' ? 'units' : 'units-x', component: name === 'units' ? page : Blank },
      { path: '/page', name: name === 'units' ? 'page' : name, component: name === 'units' ? Blank : page },
      { path: '/instructors', name: 'instructors', component: Blank },
      { path: '/instructors/:id', name: 'instructor', component: Blank },
      { path: '/invite-slips', name: 'invite-slips', component: Blank },
      { path: '/units/without-instructor', name: 'units-empty', component: Blank },
    ],
  })
  await router.push(path)
  await router.isReady()
  const App = defineComponent({ render: () => h(RouterView) })
  const wrapper = mount(App, { global: { plugins: [ElementPlus, router] }, attachTo: document.body })
  return { wrapper, router }
}

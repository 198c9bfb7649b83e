// Debian's Chromium driven by playwright-core: never a downloaded browser.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { chromium } from 'playwright-core'

const require = createRequire(import.meta.url)
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
export const outDir = path.resolve(import.meta.dirname, 'out')

export async function openBrowser() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiliu-chromium-'))
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  })
  ctx.on('close', () => {
    try {
      fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 })
    } catch {
      // Chromium may still be writing its cache as it exits; the directory is under /tmp
    }
  })
  return ctx
}

// openIsolated opens a second browser whose cookies are its own: another officer at another PC.
export async function openIsolated() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  ctx.on('close', () => browser.close().catch(() => {}))
  return ctx
}

// newPage opens a tab that records what must never happen: a CSP violation, an uncaught error.
export async function newPage(ctx) {
  const page = await ctx.newPage()
  page.problems = []
  page.on('pageerror', (e) => page.problems.push('page error: ' + e.message))
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) page.problems.push('CSP: ' + m.text())
  })
  page.setDefaultTimeout(20000)
  return page
}

export async function shot(page, name) {
  fs.mkdirSync(outDir, { recursive: true })
  await page.screenshot({ path: path.join(outDir, name + '.png') })
}

// axe runs axe-core in the page (evaluated through the DevTools protocol, so the page's CSP,
// which forbids injected scripts, stays as it is) and returns the serious and critical violations.
export async function axe(page) {
  const has = await page.evaluate(() => typeof window.axe !== 'undefined')
  if (!has) await page.evaluate(axeSource)
  const res = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] }),
  )
  return res.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' ' + n.html.slice(0, 160)).join(' | ')}`)
}

// go navigates inside the application (as a click on a link does), without the reload that would
// restore the session through the refresh cookie first.
export async function go(page, p) {
  await page.evaluate((to) => {
    // the state vue-router keeps in history, so that the router can push and redirect from here
    const s = history.state || {}
    history.pushState({ back: s.current ?? null, current: to, forward: null, position: (s.position ?? 0) + 1, replaced: false, scroll: null }, '', to)
    dispatchEvent(new PopStateEvent('popstate', { state: history.state }))
  }, p)
  await page.waitForLoadState('networkidle')
}

export async function login(page, base, acc) {
  await page.goto(base + '/login')
  await page.fill('#login-username', acc.username)
  await page.fill('#login-password', acc.password)
  await page.click('.login-submit')
  await page.waitForSelector('.layout')
  await page.waitForLoadState('networkidle')
}

export async function selectOption(page, trigger, text) {
  // the select's placeholder lies over its input: the click goes to the select as a person's would
  await trigger.click({ force: true })
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: text }).first().click()
  // the list fades out over the fields below it: a click there meanwhile would land on the list
  await page.waitForFunction(() => ![...document.querySelectorAll('.el-select-dropdown')].some((d) => d.checkVisibility()), null, { timeout: 5000 })
}

// pickRegion opens a region cascader and picks the node named last in names, expanding the others.
export async function pickRegion(page, trigger, names) {
  await trigger.click()
  for (let i = 0; i < names.length; i++) {
    const menu = page.locator('.el-cascader__dropdown:visible .el-cascader-menu').nth(i)
    const node = menu.locator('.el-cascader-node', { hasText: names[i] }).first()
    if (i === names.length - 1) await node.locator('.el-radio').click()
    else await node.click()
  }
  // close the dropdown by clicking beside it (Escape would close a dialog around it too)
  const title = page.locator('.el-dialog:visible .el-dialog__title')
  if (await title.count()) await title.click()
  else await page.locator('.page-title').first().click()
  await page.locator('.el-cascader__dropdown:visible').waitFor({ state: 'hidden' })
}

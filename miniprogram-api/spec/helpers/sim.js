// Renders the mini-program's Component() pages with miniprogram-simulate on jsdom, under node's
// test runner. Load this before anything that touches the simulator.
'use strict'
const path = require('path')
const fs = require('fs')
const {JSDOM} = require('jsdom')

const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', {pretendToBeVisual: true, url: 'http://localhost/'})
const w = dom.window
global.window = w
global.document = w.document
// Node's own Event/CustomEvent are refused by jsdom's dispatchEvent: use jsdom's.
global.Event = w.Event
global.CustomEvent = w.CustomEvent
global.HTMLElement = w.HTMLElement
global.Node = w.Node
global.Element = w.Element
if (!global.navigator) global.navigator = w.navigator
global.getComputedStyle = w.getComputedStyle
global.requestAnimationFrame = fn => setTimeout(fn, 0)

const simulate = require('miniprogram-simulate')

const ROOT = path.join(__dirname, '..', '..', 'miniprogram')
const NPM = path.join(ROOT, 'miniprogram_npm')
if (!fs.existsSync(path.join(NPM, '@vant', 'weapp', 'button', 'index.json'))) {
  require('child_process').execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build-npm.js')], {stdio: 'inherit'})
}

/** Every @vant/weapp component a page or component (and its own components) uses, mapped to miniprogram_npm. */
function vantMap(jsonPath, acc) {
  const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'))
  const using = json.usingComponents || {}
  Object.keys(using).forEach(tag => {
    const v = using[tag]
    if (v.startsWith('@vant/weapp/')) acc[tag] = '/miniprogram_npm/' + v
    else if (v.startsWith('/')) vantMap(path.join(ROOT, v + '.json'), acc)
  })
  return acc
}

/**
 * Loads and renders a page or component by its path under miniprogram/ ("pages/login/index"),
 * attached to the document. Returns the simulator's root component.
 */
function render(rel, props) {
  const file = path.join(ROOT, rel)
  const id = simulate.load(file, {rootPath: ROOT, usingComponents: vantMap(file + '.json', {})})
  const comp = simulate.render(id, props || {})
  const parent = document.createElement('div')
  document.body.appendChild(parent)
  comp.attach(parent)
  return comp
}

/** Text of the first node matching a selector ('' when none). */
function text(comp, selector) {
  const node = comp.querySelector(selector)
  return node ? node.dom.textContent.replace(/\s+/g, ' ').trim() : ''
}

/** Installs a fake over the simulator's wx (the libraries call wx.getSystemInfoSync and friends). */
const simWx = global.wx
function installWx(fake) {
  Object.setPrototypeOf(fake, simWx)
  global.wx = fake
  return fake
}

module.exports = {simulate, render, text, installWx, ROOT}

#!/usr/bin/env node
// What WeChat DevTools' "构建 npm" does for the packages this mini-program uses, so that tests and
// a DevTools without that step see the same files: each package's mini-program folder is copied
// to miniprogram/miniprogram_npm/<name>/.
//   @vant/weapp ships its mini-program build in lib/ (package.json "miniprogram": "lib");
//   qrcode-generator is a plain CommonJS file, which DevTools packs as <name>/index.js.
'use strict'
const fs = require('fs')
const path = require('path')

const root = path.join(__dirname, '..')
const out = path.join(root, 'miniprogram', 'miniprogram_npm')

function pkgDir(name) {
  const dir = path.join(root, 'node_modules', name)
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    throw new Error(name + ' is not installed: run npm ci in miniprogram-api/ first')
  }
  return dir
}

function copyDir(from, to) {
  fs.rmSync(to, {recursive: true, force: true})
  fs.mkdirSync(path.dirname(to), {recursive: true})
  fs.cpSync(from, to, {recursive: true})
}

const vant = pkgDir('@vant/weapp')
const vantMp = JSON.parse(fs.readFileSync(path.join(vant, 'package.json'), 'utf8')).miniprogram || 'lib'
copyDir(path.join(vant, vantMp), path.join(out, '@vant', 'weapp'))

const qr = pkgDir('qrcode-generator')
fs.rmSync(path.join(out, 'qrcode-generator'), {recursive: true, force: true})
fs.mkdirSync(path.join(out, 'qrcode-generator'), {recursive: true})
fs.copyFileSync(path.join(qr, 'dist', 'qrcode.js'), path.join(out, 'qrcode-generator', 'index.js'))

console.log('build-npm: @vant/weapp (' + vantMp + '/) and qrcode-generator copied to miniprogram/miniprogram_npm/')

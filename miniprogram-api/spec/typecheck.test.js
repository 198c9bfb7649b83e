'use strict'
// `npm test` type-checks the mini-program (tsc --noEmit -p jsconfig.json, checkJs with
// miniprogram-api-typings). This proves the check has teeth: a misspelled wx API or a wrong
// option type in a copy of the settings fails it.
const {describe, it} = require('node:test')
const assert = require('node:assert/strict')
const {spawnSync} = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const root = path.join(__dirname, '..')
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')

describe('type checking of wx calls', () => {
  it('fails on a misspelled wx API and a wrong option type', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscheck-'))
    fs.writeFileSync(path.join(dir, 'bad.js'), [
      "wx.requst({url: 'https://x'})",
      "wx.request({url: 'https://x', timeout: '20s'})",
      "wx.uploadFile({url: 'https://x', filePath: 'a', name: 'file'})",
    ].join('\n'))
    const cfg = JSON.parse(fs.readFileSync(path.join(root, 'jsconfig.json'), 'utf8'))
    cfg.compilerOptions.typeRoots = [path.join(root, 'node_modules')]
    cfg.include = [path.join(dir, 'bad.js')]
    cfg.exclude = []
    fs.writeFileSync(path.join(dir, 'jsconfig.json'), JSON.stringify(cfg))
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', path.join(dir, 'jsconfig.json')], {encoding: 'utf8'})
    fs.rmSync(dir, {recursive: true, force: true})
    assert.notEqual(r.status, 0, r.stdout)
    assert.match(r.stdout, /bad\.js\(1,4\).*requst/)
    assert.match(r.stdout, /bad\.js\(2,/)
    assert.doesNotMatch(r.stdout, /bad\.js\(3,/, 'the correct call passes')
  })
})

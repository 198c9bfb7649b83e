// Checks exchanges against the API contract (openapi.yaml): the route and method must be
// documented, the query parameters declared, the JSON request body must match its schema, and the
// response status must be documented with a body matching its schema.
//
// Objects are checked strictly: a property that the schema does not name is an error unless the
// schema allows more (additionalProperties). A guessed field in a page or in a test's fake server
// therefore fails the test that uses it.
'use strict'
const fs = require('fs')
const path = require('path')
const YAML = require('yaml')

const SPEC_PATH = path.join(__dirname, '..', '..', 'openapi.yaml')
let spec = null

function load() {
  if (!spec) spec = YAML.parse(fs.readFileSync(SPEC_PATH, 'utf8'))
  return spec
}

function resolve(schema) {
  let s = schema
  const seen = new Set()
  while (s && s.$ref) {
    if (seen.has(s.$ref)) throw new Error('circular $ref ' + s.$ref)
    seen.add(s.$ref)
    const parts = s.$ref.replace(/^#\//, '').split('/')
    s = parts.reduce((o, k) => (o ? o[k] : undefined), load())
    if (!s) throw new Error('unresolved $ref ' + [...seen].pop())
  }
  return s
}

/** Every property name an object schema (with its allOf parts) names, and whether it allows more. */
function objectShape(schema) {
  const s = resolve(schema)
  const names = new Set()
  let open = false
  if (s.properties) Object.keys(s.properties).forEach(k => names.add(k))
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) open = true
  for (const part of s.allOf || []) {
    const sub = objectShape(part)
    sub.names.forEach(n => names.add(n))
    if (sub.open) open = true
  }
  // anyOf/oneOf at object level: any branch's names are acceptable here; each branch is checked
  // on its own by validate().
  for (const part of (s.anyOf || []).concat(s.oneOf || [])) {
    const sub = objectShape(part)
    sub.names.forEach(n => names.add(n))
    if (sub.open) open = true
  }
  return {names, open}
}

function typeOf(v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  return typeof v
}

/**
 * Validates a value against an OpenAPI 3.0 schema. Returns a list of "path: problem" strings.
 * @param {any} value
 * @param {object} schema
 * @param {string} [at]
 * @param {boolean} [nested] true inside allOf/anyOf/oneOf branches (unknown names checked by the parent)
 */
function validate(value, schema, at, nested) {
  const where = at || '$'
  const s = resolve(schema)
  const errs = []
  if (!s || Object.keys(s).length === 0) return errs
  if (value === null) {
    if (s.nullable) return errs
    if (!s.type && !s.allOf && !s.oneOf && !s.anyOf) return errs
    return [where + ': null is not allowed']
  }
  for (const part of s.allOf || []) errs.push(...validate(value, part, where, true))
  if (s.oneOf) {
    const ok = s.oneOf.filter(b => validate(value, b, where, false).length === 0).length
    if (ok !== 1) errs.push(where + ': matches ' + ok + ' of the oneOf branches (exactly 1 expected)')
  }
  if (s.anyOf) {
    const ok = s.anyOf.some(b => validate(value, b, where, true).length === 0)
    if (!ok) errs.push(where + ': matches none of the anyOf branches')
  }
  if (s.enum && !s.enum.some(e => e === value)) errs.push(where + ': ' + JSON.stringify(value) + ' is not one of ' + JSON.stringify(s.enum))
  const t = typeOf(value)
  if (s.type) {
    const fits = s.type === t || (s.type === 'number' && t === 'integer')
    if (!fits) {
      errs.push(where + ': expected ' + s.type + ', got ' + t + ' ' + JSON.stringify(value).slice(0, 60))
      return errs
    }
  }
  if (t === 'string') {
    const n = Array.from(value).length
    if (s.minLength !== undefined && n < s.minLength) errs.push(where + ': shorter than ' + s.minLength)
    if (s.maxLength !== undefined && n > s.maxLength) errs.push(where + ': longer than ' + s.maxLength)
    if (s.pattern && !new RegExp(s.pattern).test(value)) errs.push(where + ': ' + JSON.stringify(value) + ' does not match ' + s.pattern)
    if (s.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
      errs.push(where + ': ' + JSON.stringify(value) + ' is not an RFC 3339 date-time')
    }
  }
  if (t === 'integer' || t === 'number') {
    if (s.minimum !== undefined && value < s.minimum) errs.push(where + ': below ' + s.minimum)
    if (s.maximum !== undefined && value > s.maximum) errs.push(where + ': above ' + s.maximum)
  }
  if (t === 'array') {
    if (s.minItems !== undefined && value.length < s.minItems) errs.push(where + ': fewer than ' + s.minItems + ' items')
    if (s.maxItems !== undefined && value.length > s.maxItems) errs.push(where + ': more than ' + s.maxItems + ' items')
    if (s.items) value.forEach((v, i) => errs.push(...validate(v, s.items, where + '[' + i + ']', false)))
  }
  if (t === 'object') {
    for (const k of s.required || []) {
      if (!(k in value)) errs.push(where + ': missing required ' + k)
    }
    const props = s.properties || {}
    for (const k of Object.keys(value)) {
      if (props[k]) errs.push(...validate(value[k], props[k], where + '.' + k, false))
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        errs.push(...validate(value[k], s.additionalProperties, where + '.' + k, false))
      }
    }
    if (!nested) {
      const shape = objectShape(s)
      if (!shape.open) {
        for (const k of Object.keys(value)) {
          if (!shape.names.has(k)) errs.push(where + ': property ' + k + ' is not in the contract')
        }
      }
    }
  }
  return errs
}

/** Path of a URL, without host and query. */
function pathOf(url) {
  return url.replace(/^https?:\/\/[^/]+/, '').replace(/\?.*$/, '')
}

function queryOf(url) {
  const i = url.indexOf('?')
  const out = {}
  if (i < 0) return out
  url.slice(i + 1).split('&').filter(Boolean).forEach(p => {
    const [k, v] = p.split('=')
    const key = decodeURIComponent(k)
    const val = decodeURIComponent(v || '')
    // a repeated parameter (status=a&status=b) is a list
    out[key] = key in out ? [].concat(out[key], val) : val
  })
  return out
}

/** The documented operation for a method and path: {template, op, params} or null. */
function findOperation(method, p) {
  const paths = load().paths
  const m = method.toLowerCase()
  let best = null
  for (const template of Object.keys(paths)) {
    const re = new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$')
    if (!re.test(p) || !paths[template][m]) continue
    // a literal segment wins over a parameter (/bulletins/unread-count over /bulletins/{id})
    const literal = template.replace(/\{[^}]+\}/g, '').length
    if (!best || literal > best.literal) best = {template, literal}
  }
  if (!best) return null
  const item = paths[best.template]
  const op = item[m]
  const params = (item.parameters || []).concat(op.parameters || []).map(resolve)
  return {template: best.template, op, params}
}

/**
 * Checks one exchange. `req` is what the client gave wx ({url, method, data, header}; uploads have
 * method 'UPLOAD'), `res` is {statusCode, data} or null when the network failed.
 * Returns a list of problems, each prefixed with the method and path.
 */
function checkExchange(req, res) {
  const method = req.method === 'UPLOAD' ? 'POST' : (req.method || 'GET')
  const p = pathOf(req.url)
  const label = method + ' ' + p
  const found = findOperation(method, p)
  if (!found) return [label + ': no such route in openapi.yaml']
  const errs = []
  const q = queryOf(req.url)
  const declared = found.params.filter(x => x.in === 'query')
  for (const k of Object.keys(q)) {
    const d = declared.find(x => x.name === k)
    if (!d) {
      errs.push(label + ': query parameter ' + k + ' is not in the contract')
      continue
    }
    let v = q[k]
    const ps = resolve(d.schema || {})
    if (ps.type === 'integer' && /^-?\d+$/.test(v)) v = Number(v)
    if (ps.type === 'boolean' && (v === 'true' || v === 'false')) v = v === 'true'
    if (ps.type === 'array' && !Array.isArray(v)) v = [v]
    if (ps.type !== 'array' && Array.isArray(v)) errs.push(label + ': query parameter ' + k + ' is repeated but not a list in the contract')
    errs.push(...validate(v, d.schema || {}, 'query.' + k).map(e => label + ': ' + e))
  }
  const body = found.op.requestBody
  if (req.method === 'UPLOAD') {
    const form = body && body.content['multipart/form-data']
    if (!form) errs.push(label + ': does not take a multipart upload')
    else if (req.formData) {
      // the form fields (wx.uploadFile's formData) as the contract describes them; the file itself
      // travels apart (filePath)
      errs.push(...validate(Object.assign({[req.name || 'file']: '(file)'}, req.formData), form.schema, 'formData')
        .map(e => label + ': ' + e))
    }
  } else if (method !== 'GET' && req.data !== undefined) {
    const json = body && body.content && body.content['application/json']
    if (!json) {
      const empty = req.data === '' || (typeof req.data === 'object' && req.data && Object.keys(req.data).length === 0)
      if (!empty) errs.push(label + ': takes no request body')
    } else {
      errs.push(...validate(req.data, json.schema, 'body').map(e => label + ': ' + e))
    }
  } else if (body && body.required && method !== 'GET') {
    errs.push(label + ': request body required')
  }
  if (!res) return errs
  const status = String(res.statusCode)
  const documented = found.op.responses[status]
  if (!documented) {
    errs.push(label + ': status ' + status + ' is not documented')
    return errs
  }
  const r = resolve(documented)
  const content = r.content && (r.content['application/json'])
  let data = res.data
  if (typeof data === 'string' && data !== '') {
    try {
      data = JSON.parse(data)
    } catch (e) {
      // not JSON
    }
  }
  if (content && content.schema) {
    errs.push(...validate(data, content.schema, 'response ' + status).map(e => label + ': ' + e))
  } else if (data !== undefined && data !== '' && data !== null && !(typeof data === 'object' && Object.keys(data).length === 0)) {
    errs.push(label + ': response ' + status + ' has no body in the contract')
  }
  return errs
}

/** Looks up a schema by name (components/schemas/NAME). */
function schema(name) {
  return resolve({$ref: '#/components/schemas/' + name})
}

module.exports = {checkExchange, validate, schema, findOperation, load}

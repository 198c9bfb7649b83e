import { h, type VNode, type VNodeArrayChildren } from 'vue'

// A small Markdown renderer to Vue VNodes, for bulletins. It never produces HTML strings: every
// piece of text becomes a text node, which Vue escapes, so "<script>" in a bulletin shows as
// text and nothing of the author's reaches innerHTML (the console's CSP forbids inline script
// anyway; this keeps an <img onerror> or a javascript: link out as well). What it knows is what
// the mini-program shows: headings, paragraphs, lists, quotes, code, rules, **bold**, *italic*,
// `code` and [links](https://…) (http, https and mailto only).

type Block =
  | { kind: 'h'; level: number; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'ul' | 'ol'; items: string[] }
  | { kind: 'quote'; lines: string[] }
  | { kind: 'code'; text: string }
  | { kind: 'hr' }

const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/
const bullet = /^\s*[-*+]\s+(.*)$/
const ordered = /^\s*\d{1,9}[.)]\s+(.*)$/
const rule = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/

export function parseBlocks(src: string): Block[] {
  const lines = src.replace(/\r\n?/g, '\n').split('\n')
  const out: Block[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]
    if (!line.trim()) {
      i++
      continue
    }
    if (/^\s*```/.test(line)) {
      const body: string[] = []
      i++
      while (i < lines.length && !/^\s*```/.test(lines[i])) body.push(lines[i++])
      i++
      out.push({ kind: 'code', text: body.join('\n') })
      continue
    }
    const hm = heading.exec(line)
    if (hm) {
      out.push({ kind: 'h', level: hm[1].length, text: hm[2] })
      i++
      continue
    }
    if (rule.test(line)) {
      out.push({ kind: 'hr' })
      i++
      continue
    }
    if (/^\s*>/.test(line)) {
      const q: string[] = []
      while (i < lines.length && /^\s*>/.test(lines[i])) q.push(lines[i++].replace(/^\s*>\s?/, ''))
      out.push({ kind: 'quote', lines: q })
      continue
    }
    const listKind = bullet.test(line) ? 'ul' : ordered.test(line) ? 'ol' : null
    if (listKind) {
      const re = listKind === 'ul' ? bullet : ordered
      const items: string[] = []
      while (i < lines.length && re.test(lines[i])) items.push((re.exec(lines[i++]) as RegExpExecArray)[1])
      out.push({ kind: listKind, items })
      continue
    }
    const para: string[] = []
    while (
      i < lines.length &&
      lines[i].trim() &&
      !heading.test(lines[i]) &&
      !/^\s*(```|>)/.test(lines[i]) &&
      !bullet.test(lines[i]) &&
      !ordered.test(lines[i]) &&
      !rule.test(lines[i])
    )
      para.push(lines[i++].trim())
    out.push({ kind: 'p', text: para.join('\n') })
  }
  return out
}

// safeHref keeps the links a reader may follow: web addresses and mail, nothing that runs.
export function safeHref(url: string): string | null {
  const u = url.trim()
  return /^(https?:\/\/|mailto:)/i.test(u) ? u : null
}

const inlineRe = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(__[^_\n]+__)|(\*[^*\n]+\*)|(\[[^\]\n]*\]\([^)\s]*\))/

// inline renders one line's emphasis, code and links; the rest is text.
export function inline(text: string): VNodeArrayChildren {
  const out: VNodeArrayChildren = []
  let rest = text
  while (rest) {
    const m = inlineRe.exec(rest)
    if (!m) {
      pushText(out, rest)
      break
    }
    if (m.index > 0) pushText(out, rest.slice(0, m.index))
    const t = m[0]
    if (m[1]) out.push(h('code', t.slice(1, -1)))
    else if (m[2] || m[3]) out.push(h('strong', inline(t.slice(2, -2))))
    else if (m[4]) out.push(h('em', inline(t.slice(1, -1))))
    else {
      const lm = /^\[([^\]]*)\]\(([^)\s]*)\)$/.exec(t) as RegExpExecArray
      const href = safeHref(lm[2])
      // a link that would run something is shown as its text only
      out.push(href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, inline(lm[1] || href)) : lm[1])
    }
    rest = rest.slice(m.index + t.length)
  }
  return out
}

// a line break inside a paragraph stays a line break
function pushText(out: VNodeArrayChildren, s: string) {
  const parts = s.split('\n')
  parts.forEach((p, i) => {
    if (i) out.push(h('br'))
    if (p) out.push(p)
  })
}

export function renderMarkdown(src: string): VNode[] {
  return parseBlocks(src).map((b) => {
    switch (b.kind) {
      case 'h':
        return h('h' + Math.min(6, b.level + 1), inline(b.text))
      case 'p':
        return h('p', inline(b.text))
      case 'ul':
      case 'ol':
        return h(b.kind, b.items.map((it) => h('li', inline(it))))
      case 'quote':
        return h('blockquote', parseBlocks(b.lines.join('\n')).length ? renderMarkdown(b.lines.join('\n')) : [])
      case 'code':
        return h('pre', h('code', b.text))
      case 'hr':
        return h('hr')
    }
  })
}

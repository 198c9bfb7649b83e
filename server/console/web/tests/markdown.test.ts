import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import MarkdownView from '../src/components/MarkdownView.vue'

function render(source: string) {
  return mount(MarkdownView, { props: { source } })
}

describe('the bulletin Markdown preview', () => {
  it('shows the usual Markdown', () => {
    const w = render('## 本月工作\n\n1. 开展**民族团结进步**宣传月\n2. 走访[120户](https://example.gov.cn/a)\n\n- 甲\n- *乙*\n\n> 请认真学习。\n\n`代码`')
    expect(w.find('h3').text()).toBe('本月工作')
    expect(w.findAll('ol li').map((li) => li.text())).toEqual(['开展民族团结进步宣传月', '走访120户'])
    expect(w.find('ol strong').text()).toBe('民族团结进步')
    const a = w.find('a')
    expect(a.attributes('href')).toBe('https://example.gov.cn/a')
    expect(a.attributes('rel')).toContain('noopener')
    expect(w.findAll('ul li')).toHaveLength(2)
    expect(w.find('ul em').text()).toBe('乙')
    expect(w.find('blockquote').text()).toBe('请认真学习。')
    expect(w.find('p code').text()).toBe('代码')
  })

  it('escapes HTML: markup in a bulletin is text, never elements', () => {
    const evil = '<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n**<b onclick="x()">粗</b>**\n\n- <iframe src="https://evil.example"></iframe>'
    const w = render(evil)
    const el = w.element as HTMLElement
    expect(el.querySelector('script, img, iframe, b')).toBeNull()
    expect([...el.querySelectorAll('*')].some((n) => [...n.attributes].some((at) => at.name.startsWith('on')))).toBe(false)
    expect(el.textContent).toContain('<script>alert(1)</script>')
    expect(el.textContent).toContain('<img src=x onerror="alert(2)">')
    expect(w.find('strong').text()).toBe('<b onclick="x()">粗</b>')
    expect(w.html()).toContain('&lt;script&gt;')
  })

  it('drops links that would run something, keeping their text', () => {
    const w = render('[点我](javascript:alert(1)) [数据](data:text/html,x) [邮件](mailto:a@b.cn)')
    const hrefs = w.findAll('a').map((a) => a.attributes('href'))
    expect(hrefs).toEqual(['mailto:a@b.cn'])
    expect(w.text()).toContain('点我')
    expect(w.text()).toContain('数据')
  })

  it('updates as the author types', async () => {
    const w = render('# 一')
    expect(w.find('h2').text()).toBe('一')
    await w.setProps({ source: '# 二\n\n正文' })
    expect(w.find('h2').text()).toBe('二')
    expect(w.find('p').text()).toBe('正文')
  })
})

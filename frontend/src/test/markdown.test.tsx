import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { Markdown, safeUrl } from '../chat/Markdown'

afterEach(cleanup)

const HOSTILE = [
  'Here is a picture: <img src=x onerror=alert(1)>',
  '',
  '<script>alert(1)</script>',
  '',
  '[x](javascript:alert(1)) and [y](JaVaScRiPt:alert(2)) and [z](java\tscript:alert(3))',
  '',
  '<a href="javascript:alert(4)">raw link</a> <iframe src="https://evil.example"></iframe>',
  '',
  '![tracker](https://tracker.example/pixel.png)',
  '',
  '[ok](https://example.com/docs)',
].join('\n')

describe('Markdown rendering is inert', () => {
  it('drops raw HTML, script and javascript: links', () => {
    const { container } = render(<Markdown text={HOSTILE} />)
    expect(container.querySelector('script')).toBeNull()
    expect(container.querySelector('iframe')).toBeNull()
    expect(container.querySelector('[onerror]')).toBeNull()
    for (const img of container.querySelectorAll('img')) expect(img.getAttribute('onerror')).toBeNull()
    for (const a of container.querySelectorAll('a')) {
      expect((a.getAttribute('href') ?? '').replace(/\s/g, '').toLowerCase()).not.toContain('javascript:')
    }
    expect(container.innerHTML.toLowerCase()).not.toContain('javascript:')
    expect(container.innerHTML).not.toContain('alert(1)</script>')
    // The safe link survives, opened in a new tab without an opener.
    const ok = screen.getByText('ok').closest('a')!
    expect(ok.getAttribute('href')).toBe('https://example.com/docs')
    expect(ok.getAttribute('rel')).toContain('noopener')
  })

  it('does not load images until asked', () => {
    const { container } = render(<Markdown text="![tracker](https://tracker.example/pixel.png)" />)
    expect(container.querySelector('img')).toBeNull()
    const button = screen.getByRole('button', { name: /Load image from tracker\.example/ })
    act(() => {
      fireEvent.click(button)
    })
    const img = container.querySelector('img')!
    expect(img.getAttribute('src')).toBe('https://tracker.example/pixel.png')
    expect(img.getAttribute('referrerpolicy')).toBe('no-referrer')
  })

  it('highlights fenced code and offers a copy button', () => {
    const { container } = render(<Markdown text={'```python\ndef f():\n    return 1\n```'} />)
    expect(container.querySelector('pre code.hljs')).not.toBeNull()
    expect(container.querySelector('.hljs-keyword')?.textContent).toBe('def')
    expect(screen.getByRole('button', { name: 'Copy code' })).toBeTruthy()
  })

  it('safeUrl keeps http(s), mailto and relative URLs only', () => {
    expect(safeUrl('https://a.example/x')).toBe('https://a.example/x')
    expect(safeUrl('mailto:a@b.c')).toBe('mailto:a@b.c')
    expect(safeUrl('/app/chat')).toBe('/app/chat')
    expect(safeUrl('#frag')).toBe('#frag')
    expect(safeUrl('javascript:alert(1)')).toBe('')
    expect(safeUrl(' JAVASCRIPT:alert(1)')).toBe('')
    expect(safeUrl('data:text/html,<script>')).toBe('')
    expect(safeUrl('vbscript:x')).toBe('')
  })
})

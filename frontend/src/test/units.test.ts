import { afterEach, describe, expect, it } from 'vitest'
import { captureTokenFromFragment, getToken, setToken, wsUrl } from '../api/auth'
import { readSse } from '../api/sse'
import { applyPull, initialPull, overall } from '../chat/pull'

afterEach(() => setToken(''))

describe('token from the URL fragment', () => {
  it('is stored in sessionStorage and removed from the address bar', () => {
    history.replaceState(null, '', '/app/chat#token=s3cr%3Dt')
    captureTokenFromFragment()
    expect(getToken()).toBe('s3cr=t')
    expect(window.location.hash).toBe('')
    expect(window.location.pathname).toBe('/app/chat')
    expect(wsUrl('/ws/chat')).toMatch(/\/ws\/chat\?token=s3cr%3Dt$/)
  })
})

describe('pull progress', () => {
  it('tracks layers and the overall total', () => {
    let s = applyPull(initialPull, { status: 'pulling manifest' })
    s = applyPull(s, { status: 'pulling aaa', digest: 'sha256:aaa', total: 100, completed: 10 })
    s = applyPull(s, { status: 'pulling bbb', digest: 'sha256:bbb', total: 50, completed: 50 })
    s = applyPull(s, { status: 'pulling aaa', digest: 'sha256:aaa', total: 100, completed: 60 })
    expect(s.layers).toHaveLength(2)
    expect(overall(s)).toEqual({ completed: 110, total: 150 })
    expect(s.done).toBe(false)
    s = applyPull(s, { status: 'success' })
    expect(s.done).toBe(true)
  })
})

describe('SSE reader', () => {
  it('splits data frames across chunk boundaries', async () => {
    const parts = ['data: {"a":1}\n', '\ndata: {"b"', ':2}\n\ndata: [DONE]\n\n']
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(new TextEncoder().encode(p))
        c.close()
      },
    })
    const out: string[] = []
    for await (const d of readSse(body)) out.push(d)
    expect(out).toEqual(['{"a":1}', '{"b":2}', '[DONE]'])
  })
})

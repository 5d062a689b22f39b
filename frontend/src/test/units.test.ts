import { afterEach, describe, expect, it } from 'vitest'
import { captureTokenFromFragment, getToken, setToken, wsUrl } from '../api/auth'
import { readSse } from '../api/sse'
import { applyPull, initialPull, overall } from '../chat/pull'
import { monitorReducer, initialMonitor } from '../pages/monitor'
import type { UsageReport, UsageRecord } from '../api/types'

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

describe('monitor reducer', () => {
  const totals = { requests: 1, ok: 1, errors: 0, cancelled: 0, prompt_tokens: 1, completion_tokens: 2, reasoning_tokens: 0, total_tokens: 3, cost_usd: 0, saved_usd: 0 }
  const report: UsageReport = { totals, by_model: [], by_client: [], series: [], recent: [], bucket: 'hour', since: null, until: null }
  const record = (id: number): UsageRecord => ({
    id, request_id: `r${id}`, created_at: `2026-11-26T23:0${id}:00Z`, surface: 'ws', client: 'unknown', kind: 'chat', provider: 'ollama', model: 'gpt-oss:20b',
    status: 'ok', error_type: null, prompt_tokens: 1, completion_tokens: 2, reasoning_tokens: 0, total_tokens: 3,
    latency_ms: 10, ttft_ms: 5, cost_usd: 0, reference_cost_usd: 0, structured: false,
  })
  it('applies a snapshot, then records with new totals, newest first', () => {
    let s = monitorReducer(initialMonitor, { type: 'snapshot', usage: report, in_flight: 1 })
    expect(s.inFlight).toBe(1)
    s = monitorReducer(s, { type: 'record', record: record(1), totals: { ...totals, requests: 2 }, in_flight: 0 })
    s = monitorReducer(s, { type: 'record', record: record(2), totals: { ...totals, requests: 3 }, in_flight: 0 })
    expect(s.usage?.totals.requests).toBe(3)
    expect(s.usage?.recent.map((r) => r.id)).toEqual([2, 1])
    // An older refetch does not roll the totals back.
    s = monitorReducer(s, { type: 'usage', usage: { ...report, series: [{ bucket_start: 'x', requests: 1, total_tokens: 3, cost_usd: 0, saved_usd: 0 }] } })
    expect(s.usage?.totals.requests).toBe(3)
    expect(s.usage?.series).toHaveLength(1)
  })
})

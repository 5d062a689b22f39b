import { describe, expect, it } from 'vitest'
import { initialMonitor, monitorReducer } from '../pages/monitor'
import type { UsageRecord, UsageReport } from '../api/types'

const totals = { requests: 2, ok: 2, errors: 0, cancelled: 0, prompt_tokens: 2, completion_tokens: 4, reasoning_tokens: 0, total_tokens: 6, cost_usd: 0, saved_usd: 0 }
const row = (client: string, surface: 'ollama' | 'v1', requests: number) => ({
  client, surface, requests, errors: 0, embeds: 0, prompt_tokens: 1, completion_tokens: 2, reasoning_tokens: 0,
  total_tokens: 3, cost_usd: 0, saved_usd: 0, avg_latency_ms: 10,
})
const report: UsageReport = {
  totals, by_model: [], by_client: [row('ollama-python/0.6.3', 'ollama', 1), row('curl/8.5.0', 'v1', 1)],
  series: [], recent: [], bucket: 'hour', since: null, until: null, client: null, surface: null,
}
const record = (id: number, client: string): UsageRecord => ({
  id, request_id: `r${id}`, created_at: `2026-11-26T23:0${id}:00Z`, surface: 'ollama', client, kind: 'chat',
  provider: 'ollama', model: 'gpt-oss:20b', status: 'ok', error_type: null, prompt_tokens: 1, completion_tokens: 2,
  reasoning_tokens: 0, total_tokens: 3, latency_ms: 10, ttft_ms: 5, cost_usd: 0, reference_cost_usd: 0, structured: false,
})

describe('monitor reducer, by client', () => {
  it('collects the programs seen, for the filter', () => {
    let s = monitorReducer(initialMonitor, { type: 'snapshot', usage: report, in_flight: 0 })
    expect(s.clients).toEqual(['curl/8.5.0', 'ollama-python/0.6.3'])
    s = monitorReducer(s, { type: 'record', record: record(3, 'OpenWebUI'), totals: { ...totals, requests: 3 }, in_flight: 0 })
    expect(s.clients).toEqual(['OpenWebUI', 'curl/8.5.0', 'ollama-python/0.6.3'])
    expect(s.usage?.totals.requests).toBe(3)
  })

  it('with a filter, keeps everyone else out of the figures', () => {
    let s = monitorReducer(initialMonitor, { type: 'snapshot', usage: report, in_flight: 0 })
    const before = s.version
    s = monitorReducer(s, { type: 'filter', client: 'curl/8.5.0' })
    expect(s.version).toBe(before + 1) // the page refetches
    // An answer for the unfiltered view that was still on its way is dropped.
    s = monitorReducer(s, { type: 'usage', usage: { ...report, totals: { ...totals, requests: 9 } } })
    expect(s.usage?.totals.requests).toBe(2)
    const filtered = { ...report, client: 'curl/8.5.0', totals: { ...totals, requests: 1 }, by_client: [row('curl/8.5.0', 'v1', 1)] }
    s = monitorReducer(s, { type: 'usage', usage: filtered })
    expect(s.usage?.totals.requests).toBe(1)
    expect(s.usage?.by_client.map((c) => c.client)).toEqual(['curl/8.5.0'])
    // Pushed totals are everyone's: not taken while filtered; another program's record stays out of the log.
    s = monitorReducer(s, { type: 'record', record: record(4, 'OpenWebUI'), totals: { ...totals, requests: 10 }, in_flight: 0 })
    expect(s.usage?.totals.requests).toBe(1)
    expect(s.usage?.recent).toHaveLength(0)
    s = monitorReducer(s, { type: 'record', record: record(5, 'curl/8.5.0'), totals: { ...totals, requests: 11 }, in_flight: 0 })
    expect(s.usage?.recent.map((r) => r.id)).toEqual([5])
    // Back to everyone.
    s = monitorReducer(s, { type: 'filter', client: null })
    s = monitorReducer(s, { type: 'usage', usage: { ...report, totals: { ...totals, requests: 11 } } })
    expect(s.usage?.totals.requests).toBe(11)
  })
})

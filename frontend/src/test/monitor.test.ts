import { QueryClient } from '@tanstack/react-query'
import { describe, expect, it } from 'vitest'
import { keys } from '../api/queries'
import type { BudgetEvent, UsageRecord, UsageReport } from '../api/types'
import { addBudgetAlert, budgetAlertsKey, handleMonitorMessage } from '../lib/monitorFeed'
import { applyRecord, bucketStart } from '../pages/monitor'

const totals = { requests: 2, ok: 2, errors: 0, cancelled: 0, prompt_tokens: 2, completion_tokens: 4, reasoning_tokens: 0, total_tokens: 6, cost_usd: 0, saved_usd: 0 }
const row = (client: string, surface: 'ollama' | 'v1', requests: number) => ({
  client, surface, requests, errors: 0, embeds: 0, prompt_tokens: 1, completion_tokens: 2, reasoning_tokens: 0,
  total_tokens: 3, cost_usd: 0, saved_usd: 0, avg_latency_ms: 10,
})
const report: UsageReport = {
  totals,
  by_model: [
    { provider: 'ollama', model: 'gpt-oss:20b', requests: 2, errors: 0, prompt_tokens: 2, completion_tokens: 4, reasoning_tokens: 0, total_tokens: 6, cost_usd: 0, saved_usd: 0, avg_latency_ms: 10, avg_ttft_ms: 5, tokens_per_s: 20 },
  ],
  by_client: [row('ollama-python/0.6.3', 'ollama', 1), row('curl/8.5.0', 'v1', 1)],
  by_endpoint: [],
  series: [{ bucket_start: '2026-11-26T23:01:00Z', requests: 2, total_tokens: 6, cost_usd: 0, saved_usd: 0 }],
  recent: [],
  bucket: 'minute', since: null, until: null, client: null, surface: null,
}
const record = (id: number, client: string, over: Partial<UsageRecord> = {}): UsageRecord => ({
  id, request_id: `r${id}`, created_at: `2026-11-26T23:0${id}:30Z`, surface: 'ollama', client, kind: 'chat',
  provider: 'ollama', model: 'gpt-oss:20b', status: 'ok', error_type: null, prompt_tokens: 1, completion_tokens: 2,
  reasoning_tokens: 0, total_tokens: 3, latency_ms: 40, ttft_ms: 5, cost_usd: 0.5, reference_cost_usd: 0.25, saved_usd: 0.25, structured: false,
  ...over,
})

describe('applyRecord: a finished request folded into a cached summary', () => {
  it('adds to totals, the model and client rows, the series bucket and the log', () => {
    const s = applyRecord(report, record(1, 'ollama-python/0.6.3'), { ...totals, requests: 3 }, 48)
    expect(s.totals.requests).toBe(3) // the server's running totals, unfiltered
    expect(s.by_model[0]).toMatchObject({ requests: 3, total_tokens: 9, cost_usd: 0.5, saved_usd: 0.25, avg_latency_ms: 20 })
    expect(s.by_client.find((c) => c.client === 'ollama-python/0.6.3')?.requests).toBe(2)
    expect(s.by_client[0].client).toBe('ollama-python/0.6.3') // busiest first
    expect(s.series).toHaveLength(1)
    expect(s.series[0]).toMatchObject({ requests: 3, total_tokens: 9 })
    expect(s.recent.map((r) => r.id)).toEqual([1])
  })

  it('opens a new bucket and a new row for a new program; drops the oldest bucket at the limit', () => {
    const s = applyRecord(report, record(5, 'OpenWebUI', { surface: 'v1', kind: 'embed', status: 'error' }), undefined, 1)
    expect(s.series.map((p) => p.bucket_start)).toEqual(['2026-11-26T23:05:00.000Z'])
    const row = s.by_client.find((c) => c.client === 'OpenWebUI')
    expect(row).toMatchObject({ surface: 'v1', requests: 1, errors: 1, embeds: 1 })
    expect(s.totals).toMatchObject({ requests: 3, errors: 1, ok: 2 })
  })

  it('ignores a record it already counts, and one outside its filter', () => {
    const once = applyRecord(report, record(1, 'curl/8.5.0'))
    expect(applyRecord(once, record(1, 'curl/8.5.0'))).toBe(once)
    const filtered = { ...report, client: 'curl/8.5.0' }
    expect(applyRecord(filtered, record(2, 'OpenWebUI'))).toBe(filtered)
    // Filtered: the pushed totals are everyone's, so its own are counted up instead.
    const mine = applyRecord(filtered, record(3, 'curl/8.5.0'), { ...totals, requests: 99 })
    expect(mine.totals.requests).toBe(3)
  })

  it('labels buckets as the server does (UTC starts)', () => {
    expect(bucketStart('2026-11-26T23:07:59.900Z', 'minute')).toBe('2026-11-26T23:07:00.000Z')
    expect(bucketStart('2026-11-26T23:07:59Z', 'hour')).toBe('2026-11-26T23:00:00.000Z')
    expect(bucketStart('2026-11-26T23:07:59Z', 'day')).toBe('2026-11-26T00:00:00.000Z')
  })
})

describe('the monitoring feed writes into the query cache', () => {
  it('updates every cached summary per record, without a refetch', () => {
    const qc = new QueryClient()
    qc.setQueryData(keys.usage('minute', 48, null), report)
    qc.setQueryData(keys.usage('minute', 48, 'curl/8.5.0'), { ...report, client: 'curl/8.5.0' })
    handleMonitorMessage(qc, { type: 'record', record: record(1, 'curl/8.5.0', { surface: 'v1' }), totals: { ...totals, requests: 3 }, in_flight: 2 })
    expect(qc.getQueryData<UsageReport>(keys.usage('minute', 48, null))?.totals.requests).toBe(3)
    expect(qc.getQueryData<UsageReport>(keys.usage('minute', 48, 'curl/8.5.0'))?.recent).toHaveLength(1)
    expect(qc.getQueryData(keys.inFlight)).toBe(2)
    expect(qc.getQueryState(keys.usage('minute', 48, null))?.isInvalidated).toBe(false)
  })

  it('refetches after a (re)connect snapshot, and keeps budget alerts', () => {
    const qc = new QueryClient()
    qc.setQueryData(keys.usage('minute', 48, null), report)
    handleMonitorMessage(qc, { type: 'snapshot', usage: report, in_flight: 0 })
    expect(qc.getQueryState(keys.usage('minute', 48, null))?.isInvalidated).toBe(true)
    const warn: BudgetEvent = { type: 'budget', key_id: 'k1', key_name: 'ci', budget: 'usd_per_day', threshold: 80, spent: 0.8, limit: 1 }
    handleMonitorMessage(qc, warn)
    handleMonitorMessage(qc, { ...warn, threshold: 100, spent: 1 })
    expect(qc.getQueryData<BudgetEvent[]>(budgetAlertsKey)?.map((a) => a.threshold)).toEqual([100])
  })

  it('keeps one alert per key and budget', () => {
    const a: BudgetEvent = { type: 'budget', key_id: 'k1', budget: 'usd_per_day', threshold: 80, spent: 1, limit: 1 }
    const b: BudgetEvent = { ...a, key_id: null }
    expect(addBudgetAlert(addBudgetAlert([], a), b)).toHaveLength(2)
  })
})

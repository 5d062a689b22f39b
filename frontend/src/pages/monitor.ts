// Live monitoring as pure functions over the cached usage summaries: a finished
// request's record is folded into every summary it belongs to, so Monitoring stays
// current without asking GET /usage again after each request.
import type { UsageRecord, UsageReport } from '../api/types'

const RECENT = 50

type Sums = {
  requests: number
  errors: number
  prompt_tokens: number
  completion_tokens: number
  reasoning_tokens: number
  total_tokens: number
  cost_usd: number
  saved_usd: number
}

/** What a record saved: the server's figure (its endpoint's pricing decides it). */
export function savedOf(r: UsageRecord): number {
  return r.saved_usd ?? 0
}

const isError = (r: UsageRecord) => r.status !== 'ok' && r.status !== 'cancelled'

/** A running mean over the `n` values it already has; the new value only counts when given. */
function mean(avg: number | null | undefined, n: number, value: number | null | undefined): number | null {
  if (value == null) return avg ?? null
  if (avg == null || n <= 0) return value
  return (avg * n + value) / (n + 1)
}

function addSums<T extends Sums>(row: T, r: UsageRecord): T {
  return {
    ...row,
    requests: row.requests + 1,
    errors: row.errors + (isError(r) ? 1 : 0),
    prompt_tokens: row.prompt_tokens + r.prompt_tokens,
    completion_tokens: row.completion_tokens + r.completion_tokens,
    reasoning_tokens: row.reasoning_tokens + r.reasoning_tokens,
    total_tokens: row.total_tokens + r.total_tokens,
    cost_usd: row.cost_usd + r.cost_usd,
    saved_usd: row.saved_usd + savedOf(r),
  }
}

const zeroSums: Sums = {
  requests: 0,
  errors: 0,
  prompt_tokens: 0,
  completion_tokens: 0,
  reasoning_tokens: 0,
  total_tokens: 0,
  cost_usd: 0,
  saved_usd: 0,
}

/**
 * Adds `r` to the row of `rows` that `same` picks (or a new row from `fresh`); averages
 * (over finished requests, as the server's) are running means, close to the server's
 * until the next fetch.
 */
function bump<T extends Sums & { avg_latency_ms?: number | null; avg_ttft_ms?: number | null }>(
  rows: T[],
  r: UsageRecord,
  same: (row: T) => boolean,
  fresh: () => T,
  extra: (row: T) => Partial<T> = () => ({}),
): T[] {
  const index = rows.findIndex(same)
  const row = index >= 0 ? rows[index] : fresh()
  const done = row.requests - row.errors
  const ok = r.status === 'ok'
  let next = addSums(row, r)
  if ('avg_latency_ms' in row) next = { ...next, avg_latency_ms: mean(row.avg_latency_ms, done, ok ? r.latency_ms : null) }
  if ('avg_ttft_ms' in row) next = { ...next, avg_ttft_ms: mean(row.avg_ttft_ms, done, ok ? r.ttft_ms : null) }
  next = { ...next, ...extra(row) }
  if (index < 0) return [...rows, next]
  const out = rows.slice()
  out[index] = next
  return out
}

const BUCKET_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const

/** The start of the UTC bucket `iso` falls in, as the server labels it. */
export function bucketStart(iso: string, bucket: UsageReport['bucket']): string {
  const t = new Date(iso).getTime()
  const start = Math.floor(t / BUCKET_MS[bucket]) * BUCKET_MS[bucket]
  return new Date(start).toISOString()
}

function sameInstant(a: string, b: string): boolean {
  return new Date(a).getTime() === new Date(b).getTime()
}

/** Whether a summary (by its filter) counts this record. */
export function belongsTo(summary: UsageReport, r: UsageRecord): boolean {
  if (summary.client != null && summary.client !== r.client) return false
  if (summary.surface != null && summary.surface !== r.surface) return false
  if (summary.key_id != null && summary.key_id !== r.key_id) return false
  if (summary.since != null && r.created_at < summary.since) return false
  if (summary.until != null && r.created_at >= summary.until) return false
  return true
}

/**
 * `summary` with one more finished request. `totals`, when given, are the server's
 * running totals of every record (used for an unfiltered summary); a record the
 * summary already has (its id is not newer than the newest it lists) changes nothing.
 * `points`: how many buckets the summary's series keeps.
 */
export function applyRecord(
  summary: UsageReport,
  r: UsageRecord,
  totals?: UsageReport['totals'],
  points?: number,
): UsageReport {
  if (!belongsTo(summary, r)) return summary
  const newest = summary.recent.reduce((m, x) => Math.max(m, x.id), -1)
  if (r.id <= newest) return summary
  const unfiltered =
    summary.client == null && summary.surface == null && summary.key_id == null && summary.since == null && summary.until == null
  const t = summary.totals
  const nextTotals =
    unfiltered && totals
      ? totals
      : {
          ...addSums({ ...zeroSums, ...t }, r),
          ok: t.ok + (r.status === 'ok' ? 1 : 0),
          cancelled: t.cancelled + (r.status === 'cancelled' ? 1 : 0),
        }
  const by_model = bump(
    summary.by_model,
    r,
    (m) => m.provider === r.provider && m.model === r.model,
    () => ({ ...zeroSums, provider: r.provider, model: r.model, avg_latency_ms: null, avg_ttft_ms: null, tokens_per_s: null }),
  )
  const by_client = bump(
    summary.by_client,
    r,
    (c) => c.client === r.client && c.surface === r.surface,
    () => ({ ...zeroSums, client: r.client, surface: r.surface, embeds: 0, avg_latency_ms: null }),
    (c) => ({ embeds: c.embeds + (r.kind === 'embed' ? 1 : 0) }),
  ).sort((a, b) => b.requests - a.requests)
  const start = bucketStart(r.created_at, summary.bucket)
  const series = summary.series.slice()
  const last = series[series.length - 1]
  if (last && sameInstant(last.bucket_start, start)) {
    series[series.length - 1] = {
      ...last,
      requests: last.requests + 1,
      total_tokens: last.total_tokens + r.total_tokens,
      cost_usd: last.cost_usd + r.cost_usd,
      saved_usd: last.saved_usd + savedOf(r),
    }
  } else if (!last || new Date(start) > new Date(last.bucket_start)) {
    series.push({ bucket_start: start, requests: 1, total_tokens: r.total_tokens, cost_usd: r.cost_usd, saved_usd: savedOf(r) })
    if (points != null && series.length > points) series.shift()
  }
  const recent = [r, ...summary.recent].slice(0, RECENT)
  const next: UsageReport = { ...summary, totals: nextTotals, by_model, by_client, series, recent }
  if (summary.by_key) {
    next.by_key = bump(
      summary.by_key,
      r,
      (k) => (k.key_id ?? null) === (r.key_id ?? null),
      () => ({ ...zeroSums, key_id: r.key_id ?? null, key_name: r.key_name ?? null, avg_latency_ms: null, avg_overhead_ms: null }),
      (k) => ({ avg_overhead_ms: mean(k.avg_overhead_ms, k.requests - k.errors, r.status === 'ok' ? r.overhead_ms : null) }),
    ).sort((a, b) => b.requests - a.requests)
  }
  return next
}

type Use = { budget: string; spent: number; limit: number; fraction: number }

/** Budget use after one more request: its tokens, cost and one request added to each. */
export function addUse<T extends Use>(usage: T[] | undefined, r: UsageRecord): T[] | undefined {
  if (!usage) return usage
  return usage.map((u) => {
    const add = u.budget.startsWith('usd_') ? r.cost_usd : u.budget.startsWith('tokens_') ? r.total_tokens : 1
    const spent = u.spent + add
    return { ...u, spent, fraction: u.limit > 0 ? spent / u.limit : spent > 0 ? 1 : 0 }
  })
}

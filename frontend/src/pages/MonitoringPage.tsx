// Monitoring: totals, charts, budgets and spend by key, per-model and per-program tables
// and the request log (with each request's detail),
// live from WS /ws/monitoring (a snapshot, then a record per finished request).
// A program filter narrows everything to one caller (GET /usage?client=).
import { useMemo, useState } from 'react'
import { useQueryClient } from '@tanstack/react-query'
import { errorMessage } from '../api/errors'
import { downloadUsage } from '../api/client'
import { useBudgets, useInFlight, useKeys, useUsage, useUsageClients, type Bucket } from '../api/queries'
import { BudgetBars } from '../keys/BudgetBars'
import { fmtInt, fmtMs, fmtRate, fmtTime, fmtUsd } from '../lib/format'
import { attachMonitorFeed } from '../lib/monitorFeed'
import { getSocket, useSocketStatus } from '../lib/sockets'
import { Empty, Notice, OfflineBanner, Spinner } from '../lib/ui'
import { BarChart } from './BarChart'
import { BudgetBanner } from './BudgetBanner'
import { ByKeyTable, keyLabel } from './ByKeyTable'
import { RequestDetail, RequestLogSwitch } from './RequestDetail'
import { EndpointHealthLine } from '../endpoints/EndpointHealthLine'

// The charts show the newest buckets only, so bars stay readable.
const MAX_BARS = 48

function bucketLabel(iso: string, bucket: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  if (bucket === 'day') return d.toLocaleDateString([], { month: 'short', day: 'numeric' })
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
}

function Stat({ label, value, sub, testid, alert }: { label: string; value: string; sub?: string; testid?: string; alert?: boolean }) {
  return (
    <div className={`stat${alert ? ' stat-alert' : ''}`} data-testid={testid}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {sub ? <div className="stat-sub muted">{sub}</div> : null}
    </div>
  )
}

export function MonitoringPage() {
  const qc = useQueryClient()
  const socket = getSocket('/ws/monitoring')
  attachMonitorFeed(qc, socket)
  const status = useSocketStatus(socket)
  const [bucket, setBucket] = useState<Bucket>('minute')
  const [clientFilter, setClientFilter] = useState<string | null>(null)
  const [keyFilter, setKeyFilter] = useState<string | null>(null)
  const [openRequest, setOpenRequest] = useState<string | null>(null)
  const [exportError, setExportError] = useState<string | null>(null)
  const usage = useUsage(bucket, MAX_BARS, clientFilter, keyFilter)
  const appKeys = useKeys().data ?? []
  const budgets = useBudgets().data
  const seen = useUsageClients()
  const inFlight = useInFlight()
  const error = usage.error ? errorMessage(usage.error) : null
  // Every program seen calling, for the filter: the records' clients, and the figures'.
  const clients = useMemo(() => {
    const all = new Set<string>((seen.data ?? []).map((c) => c.client))
    for (const c of usage.data?.by_client ?? []) all.add(c.client)
    return [...all].sort()
  }, [seen.data, usage.data])

  // Figures for another filter (kept while this one loads) are not shown as this one's.
  const u =
    usage.data && (usage.data.client ?? null) === clientFilter && (usage.data.key_id ?? null) === keyFilter ? usage.data : undefined
  const exportAs = (format: 'csv' | 'json') =>
    downloadUsage(format, { client: clientFilter, key: keyFilter }).then(
      () => setExportError(null),
      (err) => setExportError(errorMessage(err)),
    )
  const t = u?.totals
  const series = u?.series.slice(-MAX_BARS) ?? []
  return (
    <div className="page">
      <OfflineBanner socket={socket} what="monitoring" />
      <BudgetBanner />
      <div className="page-head">
        <h1>Monitoring</h1>
        <div className="row">
          <span className={`live-dot ${status.state}`} aria-hidden="true" />
          <span className="muted small" data-testid="live-state">
            {status.state === 'open' ? 'Live' : status.state === 'connecting' ? 'Connecting…' : 'Offline'}
          </span>
          <label className="sr-only" htmlFor="bucket">
            Bucket
          </label>
          <select id="bucket" value={bucket} onChange={(e) => setBucket(e.target.value as typeof bucket)}>
            <option value="minute">Per minute</option>
            <option value="hour">Per hour</option>
            <option value="day">Per day</option>
          </select>
          <label className="sr-only" htmlFor="client-filter">
            Program
          </label>
          <select
            id="client-filter"
            data-testid="client-filter"
            value={clientFilter ?? ''}
            onChange={(e) => setClientFilter(e.target.value || null)}
          >
            <option value="">All programs</option>
            {clients.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          <label className="sr-only" htmlFor="key-filter">
            Key
          </label>
          <select id="key-filter" data-testid="key-filter" value={keyFilter ?? ''} onChange={(e) => setKeyFilter(e.target.value || null)}>
            <option value="">All keys</option>
            {appKeys.map((k) => (
              <option key={k.id} value={k.id}>
                {k.name}
              </option>
            ))}
          </select>
          <button type="button" className="btn btn-small" onClick={() => void exportAs('csv')}>
            Export CSV
          </button>
          <button type="button" className="btn btn-small" onClick={() => void exportAs('json')}>
            Export JSON
          </button>
        </div>
      </div>
      {error ? <Notice kind="error" title="Could not load usage.">{error}</Notice> : null}
      {exportError ? <Notice kind="error" title="Could not export usage.">{exportError}</Notice> : null}
      {openRequest ? <RequestDetail id={openRequest} onClose={() => setOpenRequest(null)} /> : null}
      {!u || !t ? (
        error ? null : <Spinner label="Loading usage…" />
      ) : (
        <>
          <div className="stats">
            <Stat testid="stat-requests" label="Requests" value={fmtInt(t.requests)} sub={`${fmtInt(t.ok)} ok · ${fmtInt(t.cancelled)} cancelled`} />
            <Stat testid="stat-tokens" label="Tokens" value={fmtInt(t.total_tokens)} sub={`${fmtInt(t.prompt_tokens)} in · ${fmtInt(t.completion_tokens)} out`} />
            <Stat testid="stat-cost" label="Cost" value={fmtUsd(t.cost_usd)} />
            <Stat testid="stat-saved" label="Saved vs cloud" value={fmtUsd(t.saved_usd)} sub="local runs priced at the reference model" />
            <Stat testid="stat-errors" label="Errors" value={fmtInt(t.errors)} alert={t.errors > 0} />
            <Stat testid="stat-inflight" label="In flight" value={fmtInt(inFlight)} />
          </div>
          <div className="charts">
            <BarChart
              title="Tokens"
              labels={series.map((p) => bucketLabel(p.bucket_start, u.bucket))}
              series={[{ name: 'tokens', color: 'var(--accent)', values: series.map((p) => p.total_tokens) }]}
              format={fmtInt}
            />
            <BarChart
              title="Cost and saved vs cloud (USD)"
              labels={series.map((p) => bucketLabel(p.bucket_start, u.bucket))}
              series={[
                { name: 'cost', color: 'var(--accent-2)', values: series.map((p) => p.cost_usd) },
                { name: 'saved', color: 'var(--ok)', values: series.map((p) => p.saved_usd) },
              ]}
              format={fmtUsd}
            />
          </div>
          {budgets?.usage?.length ? (
            <section className="card">
              <h2>Budgets of the whole connector</h2>
              <BudgetBars usage={budgets.usage} testid="global-budgets" />
            </section>
          ) : null}
          <section className="card">
            <h2>By key</h2>
            <ByKeyTable rows={u.by_key ?? []} keys={appKeys} />
          </section>
          <EndpointHealthLine usage={u.by_endpoint} />
          <section className="card">
            <h2>By model</h2>
            {u.by_model.length === 0 ? (
              <Empty title="No requests yet">Send a chat message and it shows up here.</Empty>
            ) : (
              <div className="table-wrap">
                <table data-testid="by-model">
                  <thead>
                    <tr>
                      <th>Model</th>
                      <th className="num">Requests</th>
                      <th className="num">Tokens</th>
                      <th className="num">Avg latency</th>
                      <th className="num">Avg TTFT</th>
                      <th className="num">Tokens/s</th>
                      <th className="num">Cost</th>
                      <th className="num">Saved</th>
                    </tr>
                  </thead>
                  <tbody>
                    {u.by_model.map((m) => (
                      <tr key={`${m.provider}/${m.model}`}>
                        <td>
                          <span className="muted">{m.provider}/</span>
                          {m.model}
                        </td>
                        <td className="num">
                          {fmtInt(m.requests)}
                          {m.errors ? <span className="error-text"> ({m.errors} err)</span> : null}
                        </td>
                        <td className="num">{fmtInt(m.total_tokens)}</td>
                        <td className="num">{fmtMs(m.avg_latency_ms)}</td>
                        <td className="num">{fmtMs(m.avg_ttft_ms)}</td>
                        <td className="num">{fmtRate(m.tokens_per_s)}</td>
                        <td className="num">{fmtUsd(m.cost_usd)}</td>
                        <td className="num">{fmtUsd(m.saved_usd)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section className="card">
            <h2>By client</h2>
            {u.by_client.length === 0 ? (
              <Empty title="No programs yet">Requests show here by the program that sent them (its User-Agent) and the API it used.</Empty>
            ) : (
              <div className="table-wrap">
                <table data-testid="by-client">
                  <thead>
                    <tr>
                      <th>Program</th>
                      <th>Surface</th>
                      <th className="num">Requests</th>
                      <th className="num">Tokens</th>
                      <th className="num">Avg latency</th>
                      <th className="num">Cost</th>
                      <th className="num">Saved</th>
                    </tr>
                  </thead>
                  <tbody>
                    {u.by_client.map((c) => (
                      <tr key={`${c.client} ${c.surface}`}>
                        <td>{c.client}</td>
                        <td className="muted">{c.surface}</td>
                        <td className="num">
                          {fmtInt(c.requests)}
                          {c.embeds ? <span className="muted"> ({c.embeds} embed)</span> : null}
                          {c.errors ? <span className="error-text"> ({c.errors} err)</span> : null}
                        </td>
                        <td className="num">{fmtInt(c.total_tokens)}</td>
                        <td className="num">{fmtMs(c.avg_latency_ms)}</td>
                        <td className="num">{fmtUsd(c.cost_usd)}</td>
                        <td className="num">{fmtUsd(c.saved_usd)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section className="card">
            <div className="page-head">
              <h2>Recent requests</h2>
              <RequestLogSwitch />
            </div>
            {u.recent.length === 0 ? (
              <Empty title="Nothing logged yet" />
            ) : (
              <div className="table-wrap">
                <table data-testid="recent">
                  <thead>
                    <tr>
                      <th>Time</th>
                      <th>Status</th>
                      <th>Model</th>
                      <th>Via</th>
                      <th>Key</th>
                      <th className="num">Tokens</th>
                      <th className="num">Latency</th>
                      <th className="num">TTFT</th>
                      <th className="num">Cost</th>
                    </tr>
                  </thead>
                  <tbody>
                    {u.recent.map((r) => (
                      <tr key={String(r.id)}>
                        <td>
                          <button type="button" className="link-button" title="Open this request" onClick={() => setOpenRequest(r.request_id)}>
                            {fmtTime(r.created_at)}
                          </button>
                        </td>
                        <td>
                          <span className={`pill pill-${r.status}`} title={r.error_type ?? undefined}>
                            {r.status}
                          </span>
                        </td>
                        <td>
                          <span className="muted">{r.provider}/</span>
                          {r.model}
                        </td>
                        <td className="muted" title={r.client}>
                          {r.surface}
                        </td>
                        <td className="muted">{keyLabel(r.key_id, r.key_name)}</td>
                        <td className="num">{fmtInt(r.total_tokens)}</td>
                        <td className="num">{fmtMs(r.latency_ms)}</td>
                        <td className="num">{fmtMs(r.ttft_ms)}</td>
                        <td className="num">{fmtUsd(r.cost_usd)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </div>
  )
}

// Monitoring → one line per endpoint: up or down, the last error, the latency of its
// last model listing; and what each endpoint served (from /usage's by_endpoint).
import { fmtInt, fmtMs, fmtUsd } from '../lib/format'
import type { components } from '../api/schema'
import { healthState, useEndpointHealth } from './api'

type EndpointUsage = components['schemas']['EndpointUsage']

export function EndpointHealthLine({ usage }: { usage?: EndpointUsage[] }) {
  const health = useEndpointHealth()
  const served = new Map((usage ?? []).map((u) => [u.endpoint, u]))
  if (!health.data?.length) return null
  return (
    <section className="card" aria-labelledby="endpoint-health-title">
      <h2 id="endpoint-health-title">Endpoints</h2>
      <ul className="endpoint-health">
        {health.data.map((h) => {
          const state = healthState(h)
          const u = served.get(h.name)
          return (
            <li key={h.name} data-endpoint={h.name} className={`health-${state}`}>
              <strong className="mono">{h.name}</strong> <span className={`badge badge-${state}`}>{state}</span>
              {h.latency_ms != null ? <span className="muted"> {fmtMs(h.latency_ms)}</span> : null}
              {h.up ? <span className="muted"> · {fmtInt(h.models)} models</span> : null}
              {u ? (
                <span className="muted">
                  {' '}
                  · {fmtInt(u.requests)} requests, {fmtInt(u.errors)} errors
                  {u.fallbacks ? `, ${fmtInt(u.fallbacks)} by fallback` : ''}, {fmtUsd(u.cost_usd)} spent,{' '}
                  {fmtUsd(u.saved_usd)} saved
                </span>
              ) : null}
              {!h.up && h.last_error ? <div className="error-text">{h.last_error}</div> : null}
            </li>
          )
        })}
      </ul>
    </section>
  )
}

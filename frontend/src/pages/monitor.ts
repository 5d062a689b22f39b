// Live monitoring state: the /usage snapshot, then one record per finished request.
import type { MonitorMessage, UsageReport } from '../api/types'

export interface MonitorState {
  usage: UsageReport | null
  inFlight: number
  /** Bumped on each record, so the page can refetch per-model and series data. */
  version: number
}

export const initialMonitor: MonitorState = { usage: null, inFlight: 0, version: 0 }

export function monitorReducer(state: MonitorState, msg: MonitorMessage | { type: 'usage'; usage: UsageReport }): MonitorState {
  switch (msg.type) {
    case 'snapshot':
      // The snapshot uses the server's default bucket; bump the version so the page refetches its own.
      return { usage: msg.usage, inFlight: msg.in_flight, version: state.version + 1 }
    case 'usage':
      // A refetch may be older than records that arrived meanwhile; keep the newest totals and log.
      if (!state.usage) return { ...state, usage: msg.usage }
      if (msg.usage.totals.requests < state.usage.totals.requests) {
        return { ...state, usage: { ...state.usage, by_model: msg.usage.by_model, series: msg.usage.series, bucket: msg.usage.bucket } }
      }
      return {
        ...state,
        usage: {
          ...msg.usage,
          recent: mergeRecent(state.usage.recent, msg.usage.recent),
        },
      }
    case 'record': {
      const usage = state.usage
      if (!usage) return { ...state, inFlight: msg.in_flight, version: state.version + 1 }
      return {
        usage: { ...usage, totals: msg.totals, recent: mergeRecent([msg.record], usage.recent) },
        inFlight: msg.in_flight,
        version: state.version + 1,
      }
    }
    case 'in_flight':
      return { ...state, inFlight: msg.in_flight }
    default:
      return state
  }
}

function mergeRecent(a: UsageReport['recent'], b: UsageReport['recent']): UsageReport['recent'] {
  const seen = new Set<string>()
  const out: UsageReport['recent'] = []
  for (const r of [...a, ...b]) {
    const k = String(r.id)
    if (seen.has(k)) continue
    seen.add(k)
    out.push(r)
  }
  out.sort((x, y) => (x.created_at < y.created_at ? 1 : x.created_at > y.created_at ? -1 : 0))
  return out.slice(0, 50)
}

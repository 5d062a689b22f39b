// Live monitoring state: the /usage snapshot, then one record per finished request.
import type { MonitorMessage, UsageReport } from '../api/types'

export interface MonitorState {
  usage: UsageReport | null
  inFlight: number
  /** Bumped on each record, so the page can refetch per-model and series data. */
  version: number
  /** Only this calling program's requests (GET /usage?client=), or all of them. */
  client: string | null
  /** Every calling program seen, for the filter. */
  clients: string[]
}

export const initialMonitor: MonitorState = { usage: null, inFlight: 0, version: 0, client: null, clients: [] }

export type MonitorAction = MonitorMessage | { type: 'usage'; usage: UsageReport } | { type: 'filter'; client: string | null }

function withClients(known: string[], more: (string | undefined)[]): string[] {
  const all = new Set(known)
  for (const c of more) if (c) all.add(c)
  return all.size === known.length ? known : [...all].sort()
}

export function monitorReducer(state: MonitorState, msg: MonitorAction): MonitorState {
  switch (msg.type) {
    case 'filter':
      // The page refetches for the new filter; until then the old figures stay.
      return { ...state, client: msg.client, version: state.version + 1 }
    case 'snapshot': {
      const clients = withClients(state.clients, msg.usage.by_client.map((c) => c.client))
      // The snapshot is unfiltered: with a filter on, only the in-flight count is used.
      if (state.client) return { ...state, clients, inFlight: msg.in_flight, version: state.version + 1 }
      // The snapshot uses the server's default bucket; bump the version so the page refetches its own.
      return { ...state, usage: msg.usage, clients, inFlight: msg.in_flight, version: state.version + 1 }
    }
    case 'usage': {
      if ((msg.usage.client ?? null) !== state.client) return state // an answer for another filter
      const clients = withClients(state.clients, msg.usage.by_client.map((c) => c.client))
      // A refetch may be older than records that arrived meanwhile; keep the newest totals and log.
      if (!state.usage || state.client) return { ...state, clients, usage: msg.usage }
      if (msg.usage.totals.requests < state.usage.totals.requests) {
        return {
          ...state,
          clients,
          usage: { ...state.usage, by_model: msg.usage.by_model, by_client: msg.usage.by_client, series: msg.usage.series, bucket: msg.usage.bucket },
        }
      }
      return {
        ...state,
        clients,
        usage: {
          ...msg.usage,
          recent: mergeRecent(state.usage.recent, msg.usage.recent),
        },
      }
    }
    case 'record': {
      const usage = state.usage
      const clients = withClients(state.clients, [msg.record.client])
      if (!usage) return { ...state, clients, inFlight: msg.in_flight, version: state.version + 1 }
      if (state.client) {
        // The pushed totals are everyone's: a filtered view waits for its refetch.
        const recent = msg.record.client === state.client ? mergeRecent([msg.record], usage.recent) : usage.recent
        return { ...state, clients, usage: { ...usage, recent }, inFlight: msg.in_flight, version: state.version + 1 }
      }
      return {
        ...state,
        clients,
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

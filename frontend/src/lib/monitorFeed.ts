// The /ws/monitoring feed, written into the query cache: each finished request is
// folded into every cached usage summary (no GET /usage per record), the in-flight
// count and budget alerts are cached values the pages read; after a reconnect (records
// may have been missed) the summaries are fetched again.
import type { QueryClient } from '@tanstack/react-query'
import { keys } from '../api/queries'
import type { AppKey, GlobalBudgets } from '../api/rest'
import type { ReconnectingSocket } from '../api/socket'
import type { BudgetEvent, MonitorMessage, UsageReport } from '../api/types'
import { addUse, applyRecord } from '../pages/monitor'

export const budgetAlertsKey = ['budget-alerts'] as const

/** The newest alert per budget (key and kind): a 100 % event replaces its 80 % one. */
export function addBudgetAlert(alerts: BudgetEvent[], e: BudgetEvent): BudgetEvent[] {
  const same = (a: BudgetEvent) => a.key_id === e.key_id && a.budget === e.budget
  return [e, ...alerts.filter((a) => !same(a))].slice(0, 20)
}

export function handleMonitorMessage(qc: QueryClient, msg: MonitorMessage): void {
  switch (msg.type) {
    case 'snapshot':
      qc.setQueryData(keys.inFlight, msg.in_flight)
      // The first snapshot finds the summaries fresh; a later one follows a reconnect.
      void qc.invalidateQueries({ queryKey: keys.usageAll })
      return
    case 'record': {
      qc.setQueryData(keys.inFlight, msg.in_flight)
      for (const [key, data] of qc.getQueriesData<UsageReport>({ queryKey: keys.usageAll })) {
        if (!data) continue
        const points = (key[1] as { points?: number } | undefined)?.points
        qc.setQueryData(key, applyRecord(data, msg.record, msg.totals, points))
      }
      // What the key (and everyone together) spent against its budgets.
      const r = msg.record
      qc.setQueryData<AppKey[]>(keys.keys, (list) =>
        list?.map((k) => (k.id === r.key_id ? { ...k, usage: addUse(k.usage, r), requests: k.requests + 1, last_used_at: r.created_at } : k)),
      )
      qc.setQueryData<GlobalBudgets>(keys.budgets, (g) => (g ? { ...g, usage: addUse(g.usage, r) } : g))
      // A program not seen before joins the filter's list.
      const known = qc.getQueryData<{ client: string }[]>(keys.usageClients())
      if (known && !known.some((c) => c.client === msg.record.client)) void qc.invalidateQueries({ queryKey: ['usage-clients'] })
      return
    }
    case 'in_flight':
      qc.setQueryData(keys.inFlight, msg.in_flight)
      return
    case 'budget':
      qc.setQueryData<BudgetEvent[]>(budgetAlertsKey, (old) => addBudgetAlert(old ?? [], msg))
      // The server's own figures (and reset times) for the budget that crossed.
      void qc.invalidateQueries({ queryKey: keys.keys })
      void qc.invalidateQueries({ queryKey: keys.budgets })
      return
  }
}

const attached = new WeakSet<ReconnectingSocket>()

/** Feeds `socket`'s messages into `qc`, once per socket (it lives as long as the page). */
export function attachMonitorFeed(qc: QueryClient, socket: ReconnectingSocket): void {
  if (attached.has(socket)) return
  attached.add(socket)
  socket.onMessage((data) => {
    if (data && typeof data === 'object' && 'type' in data) handleMonitorMessage(qc, data as MonitorMessage)
  })
}

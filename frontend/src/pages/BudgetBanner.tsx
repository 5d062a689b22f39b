// A banner per budget that crossed 80 % or 100 % (the `budget` events of
// /ws/monitoring), until dismissed.
import { useQuery, useQueryClient } from '@tanstack/react-query'
import type { BudgetEvent } from '../api/types'
import { budgetLabel, fmtBudget } from '../keys/budget'
import { budgetAlertsKey } from '../lib/monitorFeed'
import { fmtTime } from '../lib/format'

export function budgetText(e: BudgetEvent): string {
  const who = e.key_id ? `Key “${e.key_name ?? e.key_id}”` : 'The connector'
  const what = `${budgetLabel(e.budget).toLowerCase()} budget`
  const figures = `${fmtBudget(e.budget, e.spent)} of ${fmtBudget(e.budget, e.limit)}`
  const reset = e.resets_at ? ` It resets at ${fmtTime(e.resets_at)}.` : ''
  return e.threshold >= 100
    ? `${who} is over its ${what} (${figures}): its requests are refused.${reset}`
    : `${who} has used ${e.threshold} % of its ${what} (${figures}).${reset}`
}

export function BudgetBanner() {
  const qc = useQueryClient()
  const alerts = useQuery<BudgetEvent[]>({ queryKey: budgetAlertsKey, queryFn: () => [], enabled: false }).data ?? []
  if (alerts.length === 0) return null
  const dismiss = (a: BudgetEvent) =>
    qc.setQueryData<BudgetEvent[]>(budgetAlertsKey, (old) => (old ?? []).filter((x) => x !== a))
  return (
    <>
      {alerts.map((a) => (
        <div
          key={`${a.key_id}-${a.budget}`}
          className={`notice ${a.threshold >= 100 ? 'notice-error' : 'notice-warn'} budget-banner`}
          role="alert"
          data-testid="budget-banner"
          data-threshold={a.threshold}
        >
          <span>{budgetText(a)}</span>
          <button type="button" className="btn btn-small btn-ghost" onClick={() => dismiss(a)}>
            Dismiss
          </button>
        </div>
      ))}
    </>
  )
}

// One bar per budget a key (or the whole connector) has: spent of limit, amber from
// 80 %, red at 100 % (requests are then refused until it resets).
import type { BudgetUse } from '../api/rest'
import { fmtTime } from '../lib/format'
import { barState, budgetLabel, fmtBudget } from './budget'
import './keys.css'

export function BudgetBars({ usage, testid }: { usage: BudgetUse[] | undefined; testid?: string }) {
  if (!usage || usage.length === 0) return <span className="muted small">No limits</span>
  return (
    <div className="budget-bars" data-testid={testid}>
      {usage.map((u) => {
        const { percent, level } = barState(u)
        return (
          <div key={u.budget} className="budget" data-budget={u.budget} data-level={level} title={`Resets ${fmtTime(u.resets_at)}`}>
            <div className="budget-head small">
              <span>{budgetLabel(u.budget)}</span>
              <span className="budget-figure">
                {fmtBudget(u.budget, u.spent)} / {fmtBudget(u.budget, u.limit)}
              </span>
            </div>
            <div className="budget-track" role="meter" aria-label={budgetLabel(u.budget)} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
              <div className={`budget-fill budget-${level}`} style={{ width: `${percent}%` }} />
            </div>
          </div>
        )
      })}
    </div>
  )
}

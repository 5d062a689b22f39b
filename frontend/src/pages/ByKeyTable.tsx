// Monitoring's "By key" table: what each app key spent, with its budget bars.
import type { AppKey, KeyUsage } from '../api/rest'
import { BudgetBars } from '../keys/BudgetBars'
import { fmtInt, fmtMs, fmtUsd } from '../lib/format'
import { Empty } from '../lib/ui'

export function keyLabel(id: string | null | undefined, name: string | null | undefined): string {
  if (!id) return 'No key'
  if (id === 'admin') return 'Admin token'
  return name ?? id
}

export function ByKeyTable({ rows, keys }: { rows: KeyUsage[]; keys: AppKey[] }) {
  if (rows.length === 0) return <Empty title="Nothing by key yet">Requests show here by the app key they came with.</Empty>
  return (
    <div className="table-wrap">
      <table data-testid="by-key">
        <thead>
          <tr>
            <th>Key</th>
            <th className="num">Requests</th>
            <th className="num">Tokens</th>
            <th className="num">Cost</th>
            <th className="num">Saved</th>
            <th className="num">Avg latency</th>
            <th className="num">Avg overhead</th>
            <th>Budgets</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const key = keys.find((k) => k.id === r.key_id)
            return (
              <tr key={r.key_id ?? 'none'} data-key-id={r.key_id ?? ''}>
                <td>{keyLabel(r.key_id, key?.name ?? r.key_name)}</td>
                <td className="num">
                  {fmtInt(r.requests)}
                  {r.errors ? <span className="error-text"> ({r.errors} err)</span> : null}
                </td>
                <td className="num">{fmtInt(r.total_tokens)}</td>
                <td className="num">{fmtUsd(r.cost_usd)}</td>
                <td className="num">{fmtUsd(r.saved_usd)}</td>
                <td className="num">{fmtMs(r.avg_latency_ms)}</td>
                <td className="num">{fmtMs(r.avg_overhead_ms)}</td>
                <td>{key ? <BudgetBars usage={key.usage} testid={`budget-${key.id}`} /> : <span className="muted small">—</span>}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

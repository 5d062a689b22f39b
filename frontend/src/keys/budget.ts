// Budgets as people read them: which limit, how much of it is spent, when it resets.
import type { BudgetUse, Limits } from '../api/rest'
import { fmtInt, fmtUsd } from '../lib/format'

export const BUDGETS: { field: keyof Limits; label: string; usd?: boolean }[] = [
  { field: 'usd_per_day', label: 'USD per day', usd: true },
  { field: 'usd_per_month', label: 'USD per month', usd: true },
  { field: 'tokens_per_day', label: 'Tokens per day' },
  { field: 'tokens_per_month', label: 'Tokens per month' },
  { field: 'requests_per_minute', label: 'Requests per minute' },
]

export function budgetLabel(budget: string): string {
  return BUDGETS.find((b) => b.field === budget)?.label ?? budget
}

export function fmtBudget(budget: string, value: number): string {
  return budget.startsWith('usd_') ? fmtUsd(value) : fmtInt(value)
}

/** How full a bar is (0-100, capped) and its state: ok, warn from 80 %, over at 100 %. */
export function barState(u: Pick<BudgetUse, 'spent' | 'limit'>): { percent: number; level: 'ok' | 'warn' | 'over' } {
  const fraction = u.limit > 0 ? u.spent / u.limit : u.spent > 0 ? 1 : 0
  const level = fraction >= 1 ? 'over' : fraction >= 0.8 ? 'warn' : 'ok'
  return { percent: Math.min(100, Math.round(fraction * 100)), level }
}

/** The limits a form holds: empty fields are "no limit"; anything else must be a number ≥ 0. */
export function parseLimits(form: Partial<Record<keyof Limits, string>>): { limits: Limits; errors: Partial<Record<keyof Limits, string>> } {
  const limits: Limits = {}
  const errors: Partial<Record<keyof Limits, string>> = {}
  for (const { field, usd } of BUDGETS) {
    const raw = (form[field] ?? '').trim()
    if (!raw) continue
    const n = Number(raw)
    if (!Number.isFinite(n) || n < 0) errors[field] = 'A number, 0 or more.'
    else if (!usd && !Number.isInteger(n)) errors[field] = 'A whole number.'
    else limits[field] = n
  }
  return { limits, errors }
}

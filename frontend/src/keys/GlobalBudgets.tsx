// Settings > App keys: the budgets of every request together (whatever key, or none).
// An empty field is "no limit"; saving sends every field, so a cleared one is removed.
import { useEffect, useRef, useState } from 'react'
import { errorMessage } from '../api/errors'
import { useBudgets, useSaveBudgets } from '../api/queries'
import type { Limits } from '../api/rest'
import { BudgetBars } from './BudgetBars'
import { BUDGETS, parseLimits } from './budget'

type LimitForm = Partial<Record<keyof Limits, string>>

const toForm = (limits: Limits): LimitForm =>
  Object.fromEntries(BUDGETS.map((b) => [b.field, limits[b.field] == null ? '' : String(limits[b.field])]))

export function GlobalBudgets() {
  const budgets = useBudgets()
  const save = useSaveBudgets()
  const [form, setForm] = useState<LimitForm>({})
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null)
  const filled = useRef(false)
  useEffect(() => {
    if (!budgets.data || filled.current) return
    filled.current = true
    setForm(toForm(budgets.data.limits))
  }, [budgets.data])
  const { limits, errors } = parseLimits(form)
  const submit = () => {
    setMsg(null)
    const all = Object.fromEntries(BUDGETS.map((b) => [b.field, limits[b.field] ?? null])) as Limits
    save.mutate(all, {
      onSuccess: () => setMsg({ ok: true, text: 'Budgets saved.' }),
      onError: (err) => setMsg({ ok: false, text: errorMessage(err) }),
    })
  }
  if (!budgets.data) return null
  return (
    <form
      className="form"
      noValidate
      aria-labelledby="global-budgets-title"
      onSubmit={(e) => {
        e.preventDefault()
        if (Object.keys(errors).length === 0) submit()
      }}
    >
      <h3 id="global-budgets-title">Budgets for every request together</h3>
      <div className="limits-grid">
        {BUDGETS.map((b) => (
          <div className="field" key={b.field}>
            <label htmlFor={`global-${b.field}`}>{b.label}</label>
            <input
              id={`global-${b.field}`}
              inputMode="decimal"
              placeholder="no limit"
              value={form[b.field] ?? ''}
              aria-invalid={!!errors[b.field]}
              onChange={(e) => setForm({ ...form, [b.field]: e.target.value })}
            />
            {errors[b.field] ? <div className="field-error">{errors[b.field]}</div> : null}
          </div>
        ))}
      </div>
      <BudgetBars usage={budgets.data.usage} />
      <div className="row">
        <button type="submit" className="btn" disabled={save.isPending || Object.keys(errors).length > 0}>
          Save budgets
        </button>
        {msg ? (
          <span className={msg.ok ? 'ok-text' : 'error-text'} role="status">
            {msg.text}
          </span>
        ) : null}
      </div>
    </form>
  )
}

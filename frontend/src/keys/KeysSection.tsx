// Settings > App keys: keys for a script, an agent or a colleague, each with its own
// budgets. A new key is shown once (only its hash is kept); revoking it makes its next
// request a 401.
import { useState } from 'react'
import { errorMessage } from '../api/errors'
import { useCreateKey, useKeys, useRevokeKey } from '../api/queries'
import type { AppKeyCreated, Limits } from '../api/rest'
import { CopyButton } from '../connect/ConnectPanel'
import { fmtDate, fmtInt } from '../lib/format'
import { Notice, Spinner } from '../lib/ui'
import { BudgetBars } from './BudgetBars'
import { GlobalBudgets } from './GlobalBudgets'
import { BUDGETS, parseLimits } from './budget'
import './keys.css'

type LimitForm = Partial<Record<keyof Limits, string>>

function NewKey({ created, onDone }: { created: AppKeyCreated; onDone: () => void }) {
  return (
    <Notice kind="ok" title={`Key “${created.name}” created. Copy it now: it is not shown again.`}>
      <div className="new-key">
        <code data-testid="new-key">{created.key}</code>
        <CopyButton label="Copy the new key" text={() => created.key} />
        <button type="button" className="btn btn-small btn-ghost" onClick={onDone}>
          Done
        </button>
      </div>
    </Notice>
  )
}

export function KeysSection() {
  const list = useKeys()
  const create = useCreateKey()
  const revoke = useRevokeKey()
  const [name, setName] = useState('')
  const [form, setForm] = useState<LimitForm>({})
  const [created, setCreated] = useState<AppKeyCreated | null>(null)
  const [msg, setMsg] = useState<string | null>(null)
  const { limits, errors } = parseLimits(form)
  const invalid = !name.trim() || Object.keys(errors).length > 0

  const submit = async () => {
    setMsg(null)
    if (invalid) return
    try {
      setCreated(await create.mutateAsync({ name: name.trim(), limits }))
      setName('')
      setForm({})
    } catch (err) {
      setMsg(errorMessage(err))
    }
  }

  const keys = (list.data ?? []).filter((k) => !k.revoked_at)
  return (
    <section className="card" id="keys" aria-labelledby="keys-title">
      <h2 id="keys-title">App keys</h2>
      <p className="muted">
        Give each program or person its own key, with budgets: over one, its requests get a 429 until the budget resets (UTC days and
        months). Programs send it as <code>Authorization: Bearer KEY</code> or <code>x-api-key</code>.
      </p>
      {created ? <NewKey created={created} onDone={() => setCreated(null)} /> : null}
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault()
          void submit()
        }}
      >
        <div className="field">
          <label htmlFor="key-name">Name</label>
          <input id="key-name" value={name} maxLength={100} placeholder="ci, my-agent, Alex…" onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="limits-grid">
          {BUDGETS.map((b) => (
            <div className="field" key={b.field}>
              <label htmlFor={`limit-${b.field}`}>{b.label}</label>
              <input
                id={`limit-${b.field}`}
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
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={invalid || create.isPending}>
            Create key
          </button>
          {msg ? (
            <span className="error-text" role="status">
              {msg}
            </span>
          ) : null}
        </div>
      </form>
      {list.error ? <Notice kind="error" title="Could not list the keys.">{errorMessage(list.error)}</Notice> : null}
      {list.isPending ? <Spinner /> : null}
      {list.data && keys.length === 0 ? <p className="muted">No keys yet.</p> : null}
      {keys.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="keys">
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Created</th>
                <th className="num">Requests</th>
                <th>Last used</th>
                <th>Budgets</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id} data-key-id={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.hint}</code>
                  </td>
                  <td className="muted">{k.created_at ? fmtDate(k.created_at) : '—'}</td>
                  <td className="num">{fmtInt(k.requests)}</td>
                  <td className="muted">{k.last_used_at ? fmtDate(k.last_used_at) : 'Never'}</td>
                  <td>
                    <BudgetBars usage={k.usage} />
                  </td>
                  <td>
                    {k.builtin ? (
                      <span className="muted small">Programs’ key (rotate it above)</span>
                    ) : (
                      <button
                        type="button"
                        className="btn btn-small btn-danger-ghost"
                        disabled={revoke.isPending}
                        onClick={() => {
                          if (window.confirm(`Revoke “${k.name}”? Programs using it are refused from the next request.`))
                            revoke.mutate(k.id, { onError: (err) => setMsg(errorMessage(err)) })
                        }}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <GlobalBudgets />
    </section>
  )
}

// Settings → Endpoints: every upstream the connector routes to (add, edit, test,
// enable, remove; keys are write-only and come back masked), and the aliases that
// point fixed model names at them, with their fallback lists.
import { useState } from 'react'
import { errorMessage } from '../api/errors'
import { api } from '../api/client'
import { fmtMs } from '../lib/format'
import { Notice, Spinner } from '../lib/ui'
import {
  type Alias,
  type Endpoint,
  type EndpointCheck,
  endpointsApi,
  healthState,
  splitList,
  useEndpointChange,
  useEndpoints,
} from './api'

const BLANK = { name: '', kind: 'openai-compatible', base_url: '', api_key: '', pricing: '', models: '', key_required: false }

function Status({ msg }: { msg: { ok: boolean; text: string } | null }) {
  return msg ? (
    <span className={msg.ok ? 'ok-text' : 'error-text'} role="status">
      {msg.ok ? '✓' : '✕'} {msg.text}
    </span>
  ) : null
}

function EndpointRow({ ep }: { ep: Endpoint }) {
  const [editing, setEditing] = useState(false)
  const [url, setUrl] = useState(ep.base_url)
  const [key, setKey] = useState('')
  const [filter, setFilter] = useState(ep.models.join(', '))
  const [pricing, setPricing] = useState(ep.pricing)
  const [check, setCheck] = useState<EndpointCheck | null>(null)
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null)
  const change = useEndpointChange((fn: () => Promise<unknown>) => fn())
  const act = async (fn: () => Promise<unknown>, done: string) => {
    setMsg(null)
    try {
      await change.mutateAsync(fn)
      setMsg({ ok: true, text: done })
      return true
    } catch (err) {
      setMsg({ ok: false, text: errorMessage(err) })
      return false
    }
  }
  const state = healthState(ep.health, ep.enabled)
  return (
    <li className="endpoint" data-endpoint={ep.name}>
      <div className="row">
        <strong className="mono">{ep.name}</strong>
        <span className="muted">{ep.kind}</span>
        <span className={`badge badge-${state}`} title={ep.health.last_error ?? undefined}>
          {state}
        </span>
        {ep.default ? <span className="badge">default</span> : null}
        <span className="muted">{ep.pricing === 'local' ? 'local (counted as saved)' : 'cloud (priced)'}</span>
        <span className="muted">key: {ep.api_key.set ? ep.api_key.hint : 'none'}</span>
      </div>
      <div className="mono muted">{ep.base_url}</div>
      {ep.models.length ? <div className="muted">Models: {ep.models.join(', ')}</div> : null}
      <div className="row">
        <button
          type="button"
          className="btn btn-small"
          onClick={async () => {
            setCheck(null)
            try {
              setCheck(await endpointsApi.test(ep.name))
            } catch (err) {
              setCheck({ provider: ep.name, ok: false, detail: errorMessage(err), latency_ms: 0 })
            }
          }}
        >
          Test connection
        </button>
        <label className="check">
          <input
            type="checkbox"
            checked={ep.enabled}
            disabled={ep.default}
            onChange={(e) => void act(() => endpointsApi.update(ep.name, { enabled: e.target.checked }), 'Saved')}
          />{' '}
          Enabled
        </label>
        {!ep.default ? (
          <button
            type="button"
            className="btn btn-small"
            disabled={!ep.enabled}
            onClick={() => void act(() => api.saveSettings({ default_provider: ep.name }), 'Now the default endpoint')}
          >
            Make default
          </button>
        ) : null}
        <button type="button" className="btn btn-small" onClick={() => setEditing(!editing)}>
          {editing ? 'Close' : 'Edit'}
        </button>
        {!ep.default ? (
          <button
            type="button"
            className="btn btn-small btn-danger-ghost"
            onClick={() => {
              if (window.confirm(`Remove endpoint ${ep.name} and its key?`))
                void act(() => endpointsApi.remove(ep.name), 'Removed')
            }}
          >
            Remove
          </button>
        ) : null}
        {check ? (
          <span className={check.ok ? 'ok-text' : 'error-text'} role="status">
            {check.ok ? '✓' : '✕'} {check.detail}
            {check.ok ? <span className="muted"> ({fmtMs(check.latency_ms)})</span> : null}
          </span>
        ) : null}
        <Status msg={msg} />
      </div>
      {editing ? (
        <form
          className="form"
          onSubmit={async (e) => {
            e.preventDefault()
            const ok = await act(
              () =>
                endpointsApi.update(ep.name, {
                  base_url: url.trim(),
                  models: splitList(filter),
                  pricing,
                  ...(key.trim() ? { api_key: key.trim() } : {}),
                }),
              'Saved',
            )
            if (ok) {
              setKey('')
              setEditing(false)
            }
          }}
        >
          <div className="options-row">
            <div className="field grow">
              <label htmlFor={`ep-url-${ep.name}`}>Base URL</label>
              <input id={`ep-url-${ep.name}`} className="mono" value={url} onChange={(e) => setUrl(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor={`ep-pricing-${ep.name}`}>Usage is</label>
              <select id={`ep-pricing-${ep.name}`} value={pricing} onChange={(e) => setPricing(e.target.value as Endpoint['pricing'])}>
                <option value="local">local (free, counted as saved)</option>
                <option value="cloud">cloud (priced)</option>
              </select>
            </div>
          </div>
          <div className="options-row">
            <div className="field grow">
              <label htmlFor={`ep-key-${ep.name}`}>{ep.api_key.set ? 'Replace key' : 'API key'}</label>
              <input
                id={`ep-key-${ep.name}`}
                type="password"
                autoComplete="off"
                className="mono"
                placeholder={ep.api_key.set ? `Stored (${ep.api_key.hint})` : 'optional'}
                value={key}
                onChange={(e) => setKey(e.target.value)}
              />
            </div>
            <div className="field grow">
              <label htmlFor={`ep-models-${ep.name}`}>Model filter (globs, comma-separated)</label>
              <input id={`ep-models-${ep.name}`} className="mono" value={filter} onChange={(e) => setFilter(e.target.value)} />
            </div>
          </div>
          <div className="row">
            <button type="submit" className="btn btn-primary btn-small">
              Save endpoint
            </button>
            {ep.api_key.set ? (
              <button
                type="button"
                className="btn btn-small btn-danger-ghost"
                onClick={() => void act(() => endpointsApi.update(ep.name, { api_key: '' }), 'Key cleared')}
              >
                Clear key
              </button>
            ) : null}
          </div>
        </form>
      ) : null}
    </li>
  )
}

function AddEndpoint({ kinds }: { kinds: string[] }) {
  const [form, setForm] = useState(BLANK)
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null)
  const create = useEndpointChange(endpointsApi.create)
  return (
    <form
      className="form"
      aria-label="Add an endpoint"
      onSubmit={async (e) => {
        e.preventDefault()
        setMsg(null)
        try {
          await create.mutateAsync({
            name: form.name.trim(),
            kind: form.kind,
            base_url: form.base_url.trim(),
            enabled: true,
            models: splitList(form.models),
            key_required: form.key_required,
            ...(form.pricing ? { pricing: form.pricing as Endpoint['pricing'] } : {}),
            ...(form.api_key.trim() ? { api_key: form.api_key.trim() } : {}),
          })
          setMsg({ ok: true, text: `Added ${form.name.trim()}` })
          setForm(BLANK)
        } catch (err) {
          setMsg({ ok: false, text: errorMessage(err) })
        }
      }}
    >
      <h3>Add an endpoint</h3>
      <div className="options-row">
        <div className="field">
          <label htmlFor="new-ep-name">Name</label>
          <input
            id="new-ep-name"
            className="mono"
            placeholder="e.g. lmstudio"
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="new-ep-kind">Kind</label>
          <select id="new-ep-kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="new-ep-url">Base URL</label>
          <input
            id="new-ep-url"
            className="mono"
            placeholder="http://127.0.0.1:1234/v1"
            value={form.base_url}
            onChange={(e) => setForm({ ...form, base_url: e.target.value })}
          />
        </div>
      </div>
      <div className="options-row">
        <div className="field grow">
          <label htmlFor="new-ep-key">API key (optional, kept in the OS keychain)</label>
          <input
            id="new-ep-key"
            type="password"
            autoComplete="off"
            className="mono"
            value={form.api_key}
            onChange={(e) => setForm({ ...form, api_key: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="new-ep-pricing">Usage is</label>
          <select id="new-ep-pricing" value={form.pricing} onChange={(e) => setForm({ ...form, pricing: e.target.value })}>
            <option value="">the kind's default</option>
            <option value="local">local (free, counted as saved)</option>
            <option value="cloud">cloud (priced)</option>
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="new-ep-models">Model filter (optional globs)</label>
          <input
            id="new-ep-models"
            className="mono"
            placeholder="e.g. qwen*, llama3*"
            value={form.models}
            onChange={(e) => setForm({ ...form, models: e.target.value })}
          />
        </div>
      </div>
      <div className="row">
        <label className="check">
          <input
            type="checkbox"
            checked={form.key_required}
            onChange={(e) => setForm({ ...form, key_required: e.target.checked })}
          />{' '}
          Requests need the key
        </label>
        <button type="submit" className="btn btn-primary" disabled={!form.name.trim() || !form.base_url.trim()}>
          Add endpoint
        </button>
        <Status msg={msg} />
      </div>
    </form>
  )
}

function Aliases({ aliases }: { aliases: Alias[] }) {
  const [rows, setRows] = useState(() => aliases.map((a) => ({ name: a.name, targets: a.targets.join(', ') })))
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null)
  const save = useEndpointChange(endpointsApi.setAliases)
  return (
    <form
      className="form"
      aria-label="Aliases"
      onSubmit={async (e) => {
        e.preventDefault()
        setMsg(null)
        try {
          const list = rows
            .filter((r) => r.name.trim())
            .map((r) => ({ name: r.name.trim(), targets: splitList(r.targets) }))
          await save.mutateAsync(list)
          setMsg({ ok: true, text: 'Aliases saved' })
        } catch (err) {
          setMsg({ ok: false, text: errorMessage(err) })
        }
      }}
    >
      <h3>Aliases</h3>
      <p className="muted">
        A name (or a glob such as <code>claude-haiku-*</code>) that stands for <code>ENDPOINT/MODEL</code>. Several
        targets are a fallback list: the next is tried when one is down, times out, or answers 429 or 5xx before the
        first token.
      </p>
      {rows.map((r, i) => (
        <div className="options-row" key={i}>
          <div className="field">
            <label htmlFor={`alias-name-${i}`}>Name</label>
            <input
              id={`alias-name-${i}`}
              className="mono"
              value={r.name}
              onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))}
            />
          </div>
          <div className="field grow">
            <label htmlFor={`alias-targets-${i}`}>Targets, in order</label>
            <input
              id={`alias-targets-${i}`}
              className="mono"
              placeholder="ollama/qwen3:8b, openai/gpt-4o-mini"
              value={r.targets}
              onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, targets: e.target.value } : x)))}
            />
          </div>
          <button type="button" className="btn btn-small btn-danger-ghost" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <div className="row">
        <button type="button" className="btn btn-small" onClick={() => setRows([...rows, { name: '', targets: '' }])}>
          Add alias
        </button>
        <button type="submit" className="btn btn-primary btn-small">
          Save aliases
        </button>
        <Status msg={msg} />
      </div>
    </form>
  )
}

export function EndpointsSection() {
  const query = useEndpoints()
  if (query.isPending) return <Spinner label="Loading endpoints…" />
  if (query.isError) return <Notice kind="error" title="Endpoints could not be loaded">{errorMessage(query.error)}</Notice>
  const view = query.data
  return (
    <section className="card" aria-labelledby="endpoints-title">
      <h2 id="endpoints-title">Endpoints</h2>
      <p className="muted">
        Every model server the connector routes to. Address a model as <code>ENDPOINT/MODEL</code>; a bare name goes to
        the endpoint that lists it (the default endpoint when several or none do).
      </p>
      <ul className="endpoint-list">
        {view.endpoints.map((ep) => (
          <EndpointRow key={ep.name} ep={ep} />
        ))}
      </ul>
      <AddEndpoint kinds={view.kinds} />
      <Aliases key={JSON.stringify(view.aliases)} aliases={view.aliases} />
    </section>
  )
}

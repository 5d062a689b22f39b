// Settings: the OpenAI key (write-only: after saving only the masked hint comes
// back), base URLs, defaults, per-provider connection tests, where the connector
// listens, and "Connect your tools".
import { useEffect, useRef, useState } from 'react'
import { useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import { keys, useSettings } from '../api/queries'
import { KeysSection } from '../keys/KeysSection'
import { ConnectPanel } from '../connect/ConnectPanel'
import { EndpointsSection } from '../endpoints/EndpointsSection'
import { useEndpoints } from '../endpoints/api'
import { errorMessage } from '../api/errors'
import type { ProviderName, ProviderTest, SettingsUpdate, SettingsView } from '../api/rest'
import { fmtMs } from '../lib/format'
import { Notice, Spinner } from '../lib/ui'
import { providerLabel } from '../chat/ModelPicker'

const STORAGE: Record<string, string> = {
  keyring: 'the OS keychain (keyring)',
  memory: 'memory only — it is forgotten when the connector stops',
  env: 'the OPENAI_API_KEY environment variable',
  file: 'a file in the connector’s data folder',
  none: 'nowhere yet',
}

function validUrl(v: string): boolean {
  try {
    const u = new URL(v)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

function TestButton({ name }: { name: string }) {
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<ProviderTest | null>(null)
  const [error, setError] = useState<string | null>(null)
  const run = async () => {
    setBusy(true)
    setResult(null)
    setError(null)
    try {
      setResult(await api.testProvider(name))
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="test-row">
      <button type="button" className="btn btn-small" onClick={run} disabled={busy}>
        {busy ? 'Testing…' : `Test ${providerLabel(name)} connection`}
      </button>
      {result ? (
        <span className={result.ok ? 'ok-text' : 'error-text'} role="status">
          {result.ok ? '✓' : '✕'} {result.detail}
          {result.latency_ms != null ? <span className="muted"> ({fmtMs(result.latency_ms)})</span> : null}
        </span>
      ) : null}
      {error ? <span className="error-text" role="status">✕ {error}</span> : null}
    </div>
  )
}

export function SettingsPage() {
  const qc = useQueryClient()
  const query = useSettings()
  // The default endpoint is any enabled endpoint (Settings → Endpoints adds them).
  const endpoints = useEndpoints()
  const settings = query.data ?? null
  const setSettings = (s: SettingsView) => qc.setQueryData(keys.settings, s)
  const [key, setKey] = useState('')
  const [keyMsg, setKeyMsg] = useState<{ ok: boolean; text: string } | null>(null)
  const [form, setForm] = useState({
    openai_base_url: '',
    ollama_base_url: '',
    default_provider: 'ollama' as ProviderName,
    default_model: '',
  })
  const [formMsg, setFormMsg] = useState<{ ok: boolean; text: string } | null>(null)
  const [busy, setBusy] = useState(false)

  const fill = (s: SettingsView) =>
    setForm({
      openai_base_url: s.openai_base_url,
      ollama_base_url: s.ollama_base_url,
      default_provider: s.default_provider,
      default_model: s.default_model,
    })
  const apply = (s: SettingsView) => {
    setSettings(s)
    fill(s)
    // Defaults and base URLs change what GET /models answers.
    void qc.invalidateQueries({ queryKey: keys.models })
  }
  // The form starts from the settings once they are in; later changes come from its own saves.
  const filled = useRef(false)
  useEffect(() => {
    if (!query.data || filled.current) return
    filled.current = true
    fill(query.data)
  }, [query.data])
  const loadError = query.error ? errorMessage(query.error) : null

  const saveKey = async (value: string) => {
    setBusy(true)
    setKeyMsg(null)
    try {
      const s = await api.saveSettings({ openai_api_key: value })
      // Never keep the key in the page once the server has it.
      setKey('')
      setSettings(s)
      setKeyMsg({ ok: true, text: value ? 'Key saved.' : 'Key cleared.' })
    } catch (err) {
      setKeyMsg({ ok: false, text: errorMessage(err) })
    } finally {
      setBusy(false)
    }
  }

  const urlErrors = {
    openai_base_url: form.openai_base_url && !validUrl(form.openai_base_url) ? 'Enter an http(s) URL.' : null,
    ollama_base_url: form.ollama_base_url && !validUrl(form.ollama_base_url) ? 'Enter an http(s) URL.' : null,
  }

  const saveForm = async () => {
    setFormMsg(null)
    if (urlErrors.openai_base_url || urlErrors.ollama_base_url) return
    const update: SettingsUpdate = {}
    if (settings) {
      if (form.openai_base_url !== settings.openai_base_url) update.openai_base_url = form.openai_base_url
      if (form.ollama_base_url !== settings.ollama_base_url) update.ollama_base_url = form.ollama_base_url
      if (form.default_provider !== settings.default_provider) update.default_provider = form.default_provider
      if (form.default_model !== settings.default_model) update.default_model = form.default_model
    }
    if (Object.keys(update).length === 0) {
      setFormMsg({ ok: true, text: 'Nothing changed.' })
      return
    }
    setBusy(true)
    try {
      apply(await api.saveSettings(update))
      setFormMsg({ ok: true, text: 'Settings saved.' })
    } catch (err) {
      setFormMsg({ ok: false, text: errorMessage(err) })
    } finally {
      setBusy(false)
    }
  }

  if (loadError) return <div className="page"><Notice kind="error" title="Could not load settings.">{loadError}</Notice></div>
  if (!settings) return <div className="page"><Spinner /></div>
  const k = settings.openai_api_key
  return (
    <div className="page narrow">
      <h1>Settings</h1>
      <p className="listen-line">
        This connector listens on{' '}
        <code className="address" data-testid="listen">
          {settings.listen.host}:{settings.listen.port}
        </code>
        . Programs use <code>{settings.listen.url}</code> (<code>{settings.listen.url}/v1</code> as an OpenAI base URL); see{' '}
        <a href="#connect">Connect your tools</a>.
      </p>

      <section className="card">
        <h2>OpenAI API key</h2>
        <div className="key-status" data-testid="key-status">
          {k.set ? (
            <>
              <span className="pill pill-ok">Set</span> <code>{k.hint}</code>
            </>
          ) : (
            <span className="pill">Not set</span>
          )}
          <span className="muted">Stored in {STORAGE[k.storage] ?? k.storage}.</span>
        </div>
        {!settings.keyring_available ? (
          <p className="muted small">
            No OS keychain is available here: a key entered below is kept only until the connector stops.
          </p>
        ) : null}
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault()
            if (key.trim()) void saveKey(key.trim())
          }}
        >
          <label className="sr-only" htmlFor="openai-key">
            OpenAI API key
          </label>
          <input
            id="openai-key"
            className="grow mono"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder={k.set ? 'Paste a new key to replace it' : 'sk-…'}
            value={key}
            onChange={(e) => setKey(e.target.value)}
          />
          <button type="submit" className="btn btn-primary" disabled={busy || !key.trim()}>
            {k.set ? 'Replace key' : 'Save key'}
          </button>
          {k.set && k.storage !== 'env' ? (
            <button
              type="button"
              className="btn btn-danger-ghost"
              disabled={busy}
              onClick={() => {
                if (window.confirm('Remove the stored OpenAI key?')) void saveKey('')
              }}
            >
              Clear
            </button>
          ) : null}
        </form>
        {keyMsg ? <div className={keyMsg.ok ? 'ok-text' : 'error-text'} role="status">{keyMsg.text}</div> : null}
        <TestButton name="openai" />
      </section>

      <ConnectPanel settings={settings} onChange={setSettings} />

      <KeysSection />

      <EndpointsSection />

      <form
        className="card form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault()
          void saveForm()
        }}
      >
        <h2>Providers and defaults</h2>
        <div className="field">
          <label htmlFor="ollama-url">Ollama base URL</label>
          <input
            id="ollama-url"
            className="mono"
            value={form.ollama_base_url}
            aria-invalid={!!urlErrors.ollama_base_url}
            onChange={(e) => setForm({ ...form, ollama_base_url: e.target.value })}
          />
          {urlErrors.ollama_base_url ? <div className="field-error">{urlErrors.ollama_base_url}</div> : null}
          <TestButton name="ollama" />
        </div>
        <div className="field">
          <label htmlFor="openai-url">OpenAI base URL</label>
          <input
            id="openai-url"
            className="mono"
            value={form.openai_base_url}
            aria-invalid={!!urlErrors.openai_base_url}
            onChange={(e) => setForm({ ...form, openai_base_url: e.target.value })}
          />
          {urlErrors.openai_base_url ? <div className="field-error">{urlErrors.openai_base_url}</div> : null}
        </div>
        <div className="options-row">
          <div className="field">
            <label htmlFor="default-provider">Default provider</label>
            <select
              id="default-provider"
              value={form.default_provider}
              onChange={(e) => setForm({ ...form, default_provider: e.target.value as ProviderName })}
            >
              {(endpoints.data?.endpoints ?? [])
                .filter((e) => e.enabled || e.name === form.default_provider)
                .map((e) => (
                  <option key={e.name} value={e.name}>
                    {providerLabel(e.name)}
                  </option>
                ))}
              {endpoints.data?.endpoints.some((e) => e.name === form.default_provider) ? null : (
                <option value={form.default_provider}>{providerLabel(form.default_provider)}</option>
              )}
            </select>
          </div>
          <div className="field grow">
            <label htmlFor="default-model">Default model</label>
            <input
              id="default-model"
              className="mono"
              value={form.default_model}
              onChange={(e) => setForm({ ...form, default_model: e.target.value })}
            />
          </div>
        </div>
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            Save settings
          </button>
          {formMsg ? <span className={formMsg.ok ? 'ok-text' : 'error-text'} role="status">{formMsg.text}</span> : null}
        </div>
      </form>
    </div>
  )
}

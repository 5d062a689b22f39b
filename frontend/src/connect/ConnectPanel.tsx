// "Connect your tools": the live address, whether programs need a key (and the key,
// masked, copyable, rotatable), and per program the exact settings to paste, with
// whether that program has been seen calling (from the usage records' `client`).
import { useEffect, useState } from 'react'
import { api } from '../api/client'
import { useUsageClients } from '../api/queries'
import { errorMessage } from '../api/errors'
import type { ClientUsage, SettingsView } from '../api/rest'
import { copyText } from '../lib/clipboard'
import { buildSnippets, describeSeen, seenClient, startOfToday, type Snippet } from './snippets'

const POLL_MS = 4000
export const TOKEN_PLACEHOLDER = 'YOUR_CONNECTOR_API_TOKEN'

export function CopyButton({ label, text }: { label: string; text: () => Promise<string> | string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle')
  const copy = async () => {
    try {
      await copyText(await text())
      setState('copied')
    } catch {
      setState('failed')
    }
    setTimeout(() => setState('idle'), 1500)
  }
  return (
    <button type="button" className="btn btn-small" onClick={copy} aria-label={label}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  )
}

/** The clients seen calling today, refreshed while the panel is open. */
function useClients(): ClientUsage[] {
  return useUsageClients(startOfToday(), POLL_MS).data ?? []
}

function SnippetCard({ snippet, copyTextOf, seen }: { snippet: Snippet; copyTextOf: () => Promise<string>; seen: ClientUsage | null }) {
  return (
    <div className="snippet" data-testid={`snippet-${snippet.id}`}>
      <div className="snippet-head">
        <strong>{snippet.title}</strong>
        <span className="grow" />
        {snippet.client ? (
          <span className={seen ? 'pill pill-ok' : 'pill'} data-testid={`seen-${snippet.id}`} title={seen ? seen.last_seen : undefined}>
            {seen ? `Seen: ${describeSeen(seen)}` : 'Not seen yet'}
          </span>
        ) : null}
        <CopyButton label={`Copy ${snippet.title} settings`} text={copyTextOf} />
      </div>
      <div className="muted small snippet-where">{snippet.where}</div>
      <pre className={`snippet-text lang-${snippet.language}`}>{snippet.text}</pre>
      {snippet.note ? <div className="muted small">{snippet.note}</div> : null}
    </div>
  )
}

export function ConnectPanel({ settings, onChange }: { settings: SettingsView; onChange: (s: SettingsView) => void }) {
  const clients = useClients()
  useEffect(() => {
    // Arriving from "Connect your tools" links (/app/settings#connect).
    if (window.location.hash === '#connect') document.getElementById('connect')?.scrollIntoView()
  }, [])
  const [busy, setBusy] = useState(false)
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null)
  const base = settings.listen.url
  const access = settings.program_access
  const hint = settings.program_key.hint ?? '…'
  // What the page shows; the copy buttons put the real key in (asked for only then).
  const shownKey = access === 'program_key' ? `aic-${hint}` : access === 'api_token' ? TOKEN_PLACEHOLDER : null
  const context = { baseUrl: base, dialects: settings.dialects, model: settings.default_model }
  const snippets = buildSnippets({ ...context, key: shownKey })

  const realKey = async (): Promise<string | null> =>
    access === 'program_key' ? (await api.revealProgramKey()).key : access === 'api_token' ? TOKEN_PLACEHOLDER : null
  const copyOf = (id: string) => async () => {
    const real = buildSnippets({ ...context, key: await realKey() })
    return real.find((s) => s.id === id)?.text ?? ''
  }

  const run = async (what: () => Promise<SettingsView>, done: string) => {
    setBusy(true)
    setMsg(null)
    try {
      onChange(await what())
      setMsg({ ok: true, text: done })
    } catch (err) {
      setMsg({ ok: false, text: errorMessage(err) })
    } finally {
      setBusy(false)
    }
  }
  const toggle = (on: boolean) =>
    run(() => api.saveSettings({ programs_need_key: on }), on ? 'Programs now need the key.' : 'Programs on this machine need no key now.')
  const rotate = () => {
    if (!window.confirm('Make a new key? Programs using the current one will be refused until they get the new one.')) return
    void run(async () => {
      await api.rotateProgramKey()
      return api.settings()
    }, 'New key made: copy it into your programs.')
  }

  return (
    <section className="card connect" id="connect" aria-labelledby="connect-title">
      <h2 id="connect-title">Connect your tools</h2>
      <p>
        Programs on this machine reach the connector at{' '}
        <code className="address" data-testid="connect-address">
          {base}
        </code>{' '}
        <CopyButton label="Copy the address" text={() => base} /> — OpenAI-compatible clients use <code>{base}/v1</code>.
      </p>
      <div className="key-status" data-testid="program-access">
        {access === 'open' ? (
          <span>
            <span className="pill pill-ok">Open</span> Programs on this machine need no key; web pages from other sites are still refused.
          </span>
        ) : access === 'program_key' ? (
          <span>
            <span className="pill">Key needed</span> Programs send the key <code data-testid="program-key">{shownKey}</code> as{' '}
            <code>Authorization: Bearer</code> or <code>x-api-key</code>.
          </span>
        ) : (
          <span>
            <span className="pill">Token needed</span> Programs send this server’s <code>CONNECTOR_API_TOKEN</code>.
          </span>
        )}
      </div>
      <div className="row">
        <label className="check">
          <input
            type="checkbox"
            checked={settings.programs_need_key}
            disabled={busy}
            onChange={(e) => void toggle(e.target.checked)}
          />{' '}
          Programs need a key
        </label>
        {settings.program_key.set ? (
          <>
            <CopyButton label="Copy the key" text={async () => (await api.revealProgramKey()).key} />
            <button type="button" className="btn btn-small btn-danger-ghost" disabled={busy} onClick={rotate}>
              Rotate key
            </button>
            <span className="muted small">
              Kept in {settings.program_key.storage === 'keyring' ? 'the OS keychain' : 'memory only (no keychain here): a new one comes at the next launch'}.
            </span>
          </>
        ) : null}
      </div>
      {msg ? (
        <div className={msg.ok ? 'ok-text' : 'error-text'} role="status">
          {msg.text}
        </div>
      ) : null}
      <div className="snippets">
        {snippets.map((s) => (
          <SnippetCard key={s.id} snippet={s} copyTextOf={copyOf(s.id)} seen={seenClient(s, clients)} />
        ))}
      </div>
    </section>
  )
}

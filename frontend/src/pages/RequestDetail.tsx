// One request from the request log: what was asked (messages), what came back
// (reasoning, output, tool calls), its timings, cost, key and endpoint.
import { ApiError, errorMessage } from '../api/errors'
import { useRequestEntry, useRequestLog, useSaveRequestLogSettings } from '../api/queries'
import { fmtInt, fmtMs, fmtTime, fmtUsd } from '../lib/format'
import { Notice, Spinner } from '../lib/ui'
import { keyLabel } from './ByKeyTable'

type Json = Record<string, unknown>

const asList = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : [])
const text = (v: unknown): string => (typeof v === 'string' ? v : v == null ? '' : JSON.stringify(v, null, 2))

/** The answer's parts, from a chat completion. */
export function answerOf(response: Json | null | undefined): { content: string; reasoning: string; toolCalls: Json[] } {
  const message = (asList(response?.choices)[0]?.message ?? {}) as Json
  return { content: text(message.content), reasoning: text(message.reasoning_content), toolCalls: asList(message.tool_calls) }
}

/** Turns the log off/on: it keeps bodies only when on (off by default). */
export function RequestLogSwitch() {
  const log = useRequestLog()
  const save = useSaveRequestLogSettings()
  const on = !!log.data?.settings.enabled
  if (!log.data) return null
  return (
    <label className="check small" title="Keep the last requests' bodies (in memory, secrets scrubbed) so they can be opened here">
      <input
        type="checkbox"
        data-testid="request-log-toggle"
        checked={on}
        disabled={save.isPending}
        onChange={(e) => save.mutate({ enabled: e.target.checked })}
      />{' '}
      Keep request bodies (last {log.data.settings.capacity})
    </label>
  )
}

export function RequestDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const entry = useRequestEntry(id)
  const e = entry.data
  const notLogged = entry.error instanceof ApiError && entry.error.status === 404
  const answer = answerOf(e?.response as Json | null | undefined)
  const messages = asList(e?.request?.messages)
  return (
    <section className="card request-detail" data-testid="request-detail" aria-label="Request detail">
      <div className="page-head">
        <h2>
          Request <code>{id}</code>
        </h2>
        <button type="button" className="btn btn-small btn-ghost" onClick={onClose}>
          Close
        </button>
      </div>
      {entry.isPending ? <Spinner /> : null}
      {notLogged ? (
        <Notice kind="info" title="Not in the request log.">
          Its bodies were not kept: the request log is off, or the request is older than the last ones it keeps. Turn on “Keep request
          bodies” to open the next requests.
        </Notice>
      ) : entry.error ? (
        <Notice kind="error">{errorMessage(entry.error)}</Notice>
      ) : null}
      {e ? (
        <>
          <dl data-testid="request-facts">
            <dt>When</dt>
            <dd>{fmtTime(e.created_at)}</dd>
            <dt>Model</dt>
            <dd>
              {e.provider}/{e.model}
            </dd>
            <dt>Endpoint</dt>
            <dd data-testid="request-endpoint">{e.endpoint ?? '—'}</dd>
            <dt>Key</dt>
            <dd>{keyLabel(e.key_id, e.key_name)}</dd>
            <dt>Program</dt>
            <dd>
              {e.client} <span className="muted">({e.surface})</span>
            </dd>
            <dt>Status</dt>
            <dd>{e.status}{e.error_type ? ` (${e.error_type})` : ''}</dd>
            <dt>Tokens</dt>
            <dd>
              {fmtInt(e.prompt_tokens)} in · {fmtInt(e.completion_tokens)} out
              {e.reasoning_tokens ? ` · ${fmtInt(e.reasoning_tokens)} reasoning` : ''}
            </dd>
            <dt>Timings</dt>
            <dd>
              {fmtMs(e.latency_ms)} total · {fmtMs(e.ttft_ms)} to first token · {fmtMs(e.overhead_ms)} in the connector
            </dd>
            <dt>Cost</dt>
            <dd>{fmtUsd(e.cost_usd)}</dd>
          </dl>
          <h3>Messages</h3>
          {messages.map((m, i) => (
            <div className="turn" key={i} data-role={text(m.role)}>
              <strong className="small">{text(m.role)}</strong>
              <pre>{text(m.content)}</pre>
            </div>
          ))}
          {answer.reasoning ? (
            <>
              <h3>Reasoning</h3>
              <pre data-testid="request-reasoning">{answer.reasoning}</pre>
            </>
          ) : null}
          <h3>Output</h3>
          {e.response ? <pre data-testid="request-output">{answer.content || '(no text)'}</pre> : <p className="muted">No answer (the request failed).</p>}
          {answer.toolCalls.length > 0 ? (
            <>
              <h3>Tool calls</h3>
              <pre data-testid="request-tools">{text(answer.toolCalls)}</pre>
            </>
          ) : null}
        </>
      ) : null}
    </section>
  )
}

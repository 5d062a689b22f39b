// One turn of the transcript: user text, or an assistant reply with its thinking,
// Markdown body, parsed structured output, metrics and error.
import { lazy, Suspense, useState, type ReactNode } from 'react'
import { fmtInt, fmtMs, fmtRate, fmtUsd } from '../lib/format'

// Markdown + highlighting is the largest part of the UI; the shell paints without it.
const Markdown = lazy(() => import('./Markdown').then((m) => ({ default: m.Markdown })))
import type { ChatMessage } from './stream'

function Thinking({ text, live }: { text: string; live: boolean }) {
  const [open, setOpen] = useState<boolean | null>(null)
  const shown = open ?? live
  return (
    <div className={`thinking${shown ? ' open' : ''}`}>
      <button type="button" className="thinking-toggle" aria-expanded={shown} onClick={() => setOpen(!shown)}>
        <span className="chev" aria-hidden="true">
          ▸
        </span>
        {live ? 'Thinking…' : 'Thought process'}
        <span className="muted"> · {text.length.toLocaleString()} chars</span>
      </button>
      {shown ? <div className="thinking-body">{text}</div> : null}
    </div>
  )
}

export function MetricsLine({ m }: { m: ChatMessage }) {
  const u = m.usage
  const x = m.metrics
  if (!u && !x) return null
  return (
    <div className="metrics" aria-label="Reply metrics">
      {m.model ? <span>{m.model}</span> : null}
      {u ? (
        <span title={`prompt ${u.prompt_tokens} + completion ${u.completion_tokens}`}>{fmtInt(u.total_tokens)} tokens</span>
      ) : null}
      {x?.ttft_ms != null ? <span>TTFT {fmtMs(x.ttft_ms)}</span> : null}
      {x?.tokens_per_s != null ? <span>{fmtRate(x.tokens_per_s)}</span> : null}
      {x?.cost_usd != null ? <span>cost {fmtUsd(x.cost_usd)}</span> : null}
      {x?.reference_cost_usd ? <span className="muted">cloud {fmtUsd(x.reference_cost_usd)}</span> : null}
    </div>
  )
}

interface Props {
  m: ChatMessage
  canPull: boolean
  onPull?: () => void
  actions?: ReactNode
}

export function MessageView({ m, canPull, onPull, actions }: Props) {
  if (m.role === 'user') {
    return (
      <div className="msg msg-user" data-role="user">
        <div className="bubble">{m.content}</div>
        {actions ? <div className="msg-actions">{actions}</div> : null}
      </div>
    )
  }
  const live = m.status === 'streaming'
  const hasParsed = m.parsed !== undefined && m.parsed !== null
  return (
    <div className="msg msg-assistant" data-role="assistant" data-status={m.status}>
      {m.reasoning ? <Thinking text={m.reasoning} live={live && !m.content} /> : null}
      {hasParsed ? (
        // Structured output: the validated object is the answer; the raw text stays one click away.
        <div className="parsed">
          <div className="parsed-title">Parsed result</div>
          <pre className="mono">{JSON.stringify(m.parsed, null, 2)}</pre>
          <details className="raw">
            <summary>Raw reply</summary>
            <pre className="mono">{m.content}</pre>
          </details>
        </div>
      ) : m.content ? (
        <div className="reply" data-testid="reply">
          <Suspense fallback={<div className="markdown plain">{m.content}</div>}>
            <Markdown text={m.content} />
          </Suspense>
          {live ? <span className="cursor" aria-hidden="true" /> : null}
        </div>
      ) : live && !m.reasoning ? (
        <div className="reply typing" aria-label="Waiting for the first token">
          <span />
          <span />
          <span />
        </div>
      ) : null}
      {m.status === 'cancelled' ? <div className="muted small">Stopped.</div> : null}
      {m.status === 'error' && m.error ? (
        <div className="notice notice-error" role="alert">
          <strong>{m.error.status ? `Error ${m.error.status}` : 'Error'}</strong>
          <div>{m.error.message}</div>
          {m.error.status === 404 && canPull && onPull ? (
            <button type="button" className="btn btn-small" onClick={onPull}>
              Pull this model
            </button>
          ) : null}
        </div>
      ) : null}
      <MetricsLine m={m} />
      {actions ? <div className="msg-actions">{actions}</div> : null}
    </div>
  )
}

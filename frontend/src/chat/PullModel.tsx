// Pulls an Ollama model through POST /models/pull, showing per-layer and overall
// progress; Cancel aborts the request, which stops the pull on the server.
import { useEffect, useRef, useState } from 'react'
import { authHeaders, reportUnauthorized } from '../api/auth'
import { errorMessage, toApiError } from '../api/errors'
import { readSse } from '../api/sse'
import type { PullProgress } from '../api/types'
import { fmtBytes } from '../lib/format'
import { applyPull, initialPull, overall, type PullState } from './pull'

interface Props {
  name: string
  onDone: () => void
  onClose: () => void
}

function Bar({ completed, total }: { completed: number; total: number }) {
  const pct = total > 0 ? Math.min(100, (completed / total) * 100) : 0
  return (
    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)}>
      <div className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  )
}

export function PullModel({ name, onDone, onClose }: Props) {
  const [state, setState] = useState<PullState | null>(null)
  const abortRef = useRef<AbortController | null>(null)

  const start = async () => {
    abortRef.current?.abort()
    const ctrl = new AbortController()
    abortRef.current = ctrl
    // Only the latest pull may touch the panel (a restarted pull outlives its predecessor).
    const current = () => abortRef.current === ctrl
    const update = (next: PullState) => current() && setState(next)
    let s: PullState = initialPull
    update(s)
    try {
      const res = await fetch('/models/pull', {
        method: 'POST',
        signal: ctrl.signal,
        headers: { ...authHeaders(), 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify({ name }),
      })
      if (res.status === 401) reportUnauthorized()
      if (!res.ok || !res.body) throw toApiError(res.status, await res.json().catch(() => null))
      for await (const data of readSse(res.body)) {
        if (data === '[DONE]') break
        let p: PullProgress
        try {
          p = JSON.parse(data) as PullProgress
        } catch {
          continue
        }
        s = applyPull(s, p)
        update(s)
      }
      if (s.done) {
        if (current()) onDone()
      } else if (!s.error) update({ ...s, error: 'The pull ended before Ollama reported success.' })
    } catch (err) {
      if ((err as Error).name === 'AbortError') update({ ...s, status: 'cancelled' })
      else update({ ...s, error: errorMessage(err) })
    } finally {
      if (current()) abortRef.current = null
    }
  }

  // Opening the panel is the request to pull; leaving it cancels the pull.
  useEffect(() => {
    void start()
    return () => abortRef.current?.abort()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [name])

  const running = state !== null && !state.done && !state.error && state.status !== 'cancelled'
  const sum = state ? overall(state) : { completed: 0, total: 0 }
  return (
    <div className="pull-panel" aria-label={`Pull ${name}`}>
      <div className="pull-head">
        <div>
          {state?.done ? 'Pulled ' : 'Pulling '}
          <strong>{name}</strong> into Ollama
        </div>
        <div className="row">
          {state?.error || state?.status === 'cancelled' ? (
            <button type="button" className="btn btn-primary btn-small" onClick={start}>
              Try again
            </button>
          ) : null}
          {running ? (
            <button type="button" className="btn btn-small" onClick={() => abortRef.current?.abort()}>
              Cancel
            </button>
          ) : (
            <button type="button" className="btn btn-ghost btn-small" onClick={onClose} aria-label="Close">
              ✕
            </button>
          )}
        </div>
      </div>
      {state ? (
        <div className="pull-body">
          <div className="pull-status">
            <span>{state.done ? 'Done — the model is ready.' : state.status}</span>
            {sum.total > 0 ? (
              <span className="muted">
                {fmtBytes(sum.completed)} of {fmtBytes(sum.total)} ({Math.floor((sum.completed / sum.total) * 100)}%)
              </span>
            ) : null}
          </div>
          {sum.total > 0 ? <Bar {...sum} /> : null}
          {state.layers.length > 0 ? (
            <ul className="layers">
              {state.layers.map((l) => (
                <li key={l.digest}>
                  <code>{l.digest.replace(/^sha256:/, '').slice(0, 12)}</code>
                  <Bar completed={l.completed} total={l.total} />
                  <span className="muted">
                    {fmtBytes(l.completed)} / {fmtBytes(l.total)}
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
          {state.error ? <div className="error-text">{state.error}</div> : null}
          {state.status === 'cancelled' ? <div className="muted">Cancelled.</div> : null}
        </div>
      ) : null}
    </div>
  )
}

// Small shared pieces: notices, spinners, the offline banner.
import { useEffect, useState, type ReactNode } from 'react'
import type { ReconnectingSocket } from '../api/socket'
import { useSocketStatus } from './sockets'

export function Notice({ kind, title, children }: { kind: 'info' | 'warn' | 'error' | 'ok'; title?: string; children?: ReactNode }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {title ? <strong>{title}</strong> : null}
      {children ? <div>{children}</div> : null}
    </div>
  )
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  )
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-title">{title}</div>
      {children ? <div className="muted">{children}</div> : null}
    </div>
  )
}

/** "Reconnecting in 3 s" while a socket is down, with a retry button. The banner stays up
 *  through each reconnect attempt (state "connecting" after a loss): unmounting it for the
 *  few milliseconds a refused attempt takes made it flicker and moved the button out from
 *  under the pointer. */
export function OfflineBanner({ socket, what }: { socket: ReconnectingSocket; what: string }) {
  const status = useSocketStatus(socket)
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    if (status.state !== 'offline') return
    const t = setInterval(() => setNow(Date.now()), 500)
    return () => clearInterval(t)
  }, [status.state])
  const lost = status.state === 'offline' || (status.state === 'connecting' && status.attempts > 0)
  if (!lost) return null
  const trying = status.state === 'connecting'
  const secs = !trying && status.retryAt ? Math.max(0, Math.ceil((status.retryAt - now) / 1000)) : 0
  return (
    <div className="offline-banner" role="alert" data-state={status.state}>
      <span>
        Offline: lost the connection to the connector ({what}). Reconnecting{secs ? ` in ${secs} s` : '…'}
      </span>
      <button type="button" className="btn btn-small" disabled={trying} onClick={() => socket.retryNow()}>
        Retry now
      </button>
    </div>
  )
}

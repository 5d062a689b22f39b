// The address programs use, shown where people look: a pill in the top bar, and on
// first run a card on the chat page pointing at "Connect your tools".
import { useState } from 'react'
import { useSettings } from '../api/queries'
import { Link } from 'react-router'
import { CopyButton } from './ConnectPanel'

const DISMISSED = 'connector.connect-card'

function useListenUrl(): string | null {
  return useSettings().data?.listen.url ?? null
}

export function AddressPill() {
  const url = useListenUrl()
  if (!url) return null
  return (
    <Link to="/app/settings#connect" className="address-pill">
      <span data-testid="topbar-address" title="The address programs use (Settings → Connect your tools)">
        {url.replace(/^https?:\/\//, '')}
      </span>
    </Link>
  )
}

function dismissed(): boolean {
  try {
    return localStorage.getItem(DISMISSED) === 'dismissed'
  } catch {
    return false
  }
}

export function ConnectCard() {
  const url = useListenUrl()
  const [hidden, setHidden] = useState(dismissed)
  if (hidden || !url) return null
  const close = () => {
    try {
      localStorage.setItem(DISMISSED, 'dismissed')
    } catch {
      // Storage may be off; the card then only hides for this page.
    }
    setHidden(true)
  }
  return (
    <div className="card connect-card" data-testid="connect-card">
      <strong>Your other tools can use this connector too.</strong>
      <p>
        Claude Code, Codex, Open WebUI, VS Code, Zed, Continue and the SDKs reach it at <code>{url}</code>{' '}
        <CopyButton label="Copy the address" text={() => url} />
      </p>
      <div className="row">
        <Link to="/app/settings#connect" className="btn btn-small btn-primary">
          Connect your tools
        </Link>
        <button type="button" className="btn btn-small btn-ghost" onClick={close}>
          Dismiss
        </button>
      </div>
    </div>
  )
}

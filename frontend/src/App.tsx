// The shell: top bar with navigation, connection state and theme toggle; the
// pages (react-router, under /app/*, which the server answers with index.html so a
// reload keeps the page); and the token prompt shown when the connector answers 401.
import { useEffect, useState } from 'react'
import { Link, Navigate, Route, Routes, useLocation } from 'react-router'
import { onUnauthorized, setToken } from './api/auth'
import { ChatPage } from './chat/ChatPage'
import { lastChatPath } from './chat/useChatRoute'
import { AddressPill } from './connect/ConnectCard'
import { getSocket, useSocketStatus } from './lib/sockets'
import { useTheme } from './lib/theme'
import { MonitoringPage } from './pages/MonitoringPage'
import { ProfilePage } from './pages/ProfilePage'
import { SettingsPage } from './pages/SettingsPage'

const PAGES = [
  { path: '/app/chat', label: 'Chat' },
  { path: '/app/monitoring', label: 'Monitoring' },
  { path: '/app/settings', label: 'Settings' },
  { path: '/app/profile', label: 'Profile' },
]

function TokenPrompt({ onDone }: { onDone: () => void }) {
  const [value, setValue] = useState('')
  return (
    <div className="modal-backdrop">
      <form
        className="modal card"
        role="dialog"
        aria-modal="true"
        aria-labelledby="token-title"
        onSubmit={(e) => {
          e.preventDefault()
          setToken(value.trim())
          onDone()
        }}
      >
        <h2 id="token-title">Access token needed</h2>
        <p className="muted">
          This connector requires an API token (<code>CONNECTOR_API_TOKEN</code>). Enter it to continue; it is kept for this
          browser tab only.
        </p>
        <label className="sr-only" htmlFor="token-input">
          API token
        </label>
        <input id="token-input" type="password" autoFocus autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} />
        <div className="row end">
          <button type="submit" className="btn btn-primary" disabled={!value.trim()}>
            Continue
          </button>
        </div>
      </form>
    </div>
  )
}

function ConnectionDot() {
  const status = useSocketStatus(getSocket('/ws/chat'))
  const label = status.state === 'open' ? 'Connected' : status.state === 'connecting' ? 'Connecting…' : 'Offline'
  return (
    <span className="conn" title={label} data-state={status.state}>
      <span className={`live-dot ${status.state}`} aria-hidden="true" />
      <span className="conn-label">{label}</span>
    </span>
  )
}

function NotFound() {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p>
        <Link to="/app/chat">Go to Chat</Link>
      </p>
    </div>
  )
}

export function App() {
  const path = useLocation().pathname
  const { effective, toggle } = useTheme()
  const [needToken, setNeedToken] = useState(false)
  useEffect(() => onUnauthorized(() => setNeedToken(true)), [])
  const onChat = path === '/app/chat' || path.startsWith('/app/chat/')

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ⌁
          </span>
          AI Connector
        </div>
        <nav aria-label="Main">
          {PAGES.map((p) => {
            const active = p.path === '/app/chat' ? onChat : path === p.path
            return (
              <Link key={p.path} to={p.path === '/app/chat' ? lastChatPath() : p.path} className={active ? 'active' : ''} aria-current={active ? 'page' : undefined}>
                {p.label}
              </Link>
            )
          })}
        </nav>
        <div className="topbar-right">
          <AddressPill />
          <ConnectionDot />
          <button
            type="button"
            className="btn btn-ghost theme-toggle"
            onClick={toggle}
            aria-label={effective === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
            title={effective === 'dark' ? 'Light theme' : 'Dark theme'}
          >
            {effective === 'dark' ? '☀' : '☾'}
          </button>
        </div>
      </header>
      <main>
        {/* Chat stays mounted so a reply keeps streaming while another page is open. */}
        <ChatPage visible={onChat} />
        <Routes>
          <Route path="/" element={<Navigate to="/app/chat" replace />} />
          <Route path="/app" element={<Navigate to="/app/chat" replace />} />
          <Route path="/app/chat/*" element={null} />
          <Route path="/app/monitoring" element={<MonitoringPage />} />
          <Route path="/app/settings" element={<SettingsPage />} />
          <Route path="/app/profile" element={<ProfilePage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
      {needToken ? <TokenPrompt onDone={() => window.location.reload()} /> : null}
    </div>
  )
}

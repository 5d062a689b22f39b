// The API token: the desktop app opens the UI with `#token=SECRET`; it is kept in
// sessionStorage (gone when the window closes) and the fragment is removed so the
// secret does not linger in the address bar or history.
const KEY = 'connector.token'
type Listener = () => void
const unauthorizedListeners = new Set<Listener>()

export function captureTokenFromFragment(loc: Location = window.location): void {
  const match = /(?:^#|&)token=([^&]*)/.exec(loc.hash)
  if (!match) return
  setToken(decodeURIComponent(match[1]))
  history.replaceState(history.state, '', loc.pathname + loc.search)
}

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(KEY)
  } catch {
    return null
  }
}

export function setToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(KEY, token)
    else sessionStorage.removeItem(KEY)
  } catch {
    // Storage can be disabled; the token then lives only as long as this page.
  }
}

export function authHeaders(): Record<string, string> {
  const token = getToken()
  return token ? { Authorization: `Bearer ${token}` } : {}
}

/** ws(s)://host/path with the token as a query parameter (browsers cannot set headers). */
export function wsUrl(path: string): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:'
  const url = new URL(`${proto}//${window.location.host}${path}`)
  const token = getToken()
  if (token) url.searchParams.set('token', token)
  return url.toString()
}

export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

export function reportUnauthorized(): void {
  unauthorizedListeners.forEach((l) => l())
}

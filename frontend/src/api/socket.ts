// A WebSocket that reconnects with exponential backoff (0.5 s doubling to 10 s,
// with jitter) and tells listeners about its state, so pages can show "offline".
import { wsUrl } from './auth'

export type SocketState = 'connecting' | 'open' | 'offline'

export interface SocketStatus {
  state: SocketState
  /** When the next attempt happens (ms since epoch), while offline. */
  retryAt: number | null
  attempts: number
}

const STABLE_MS = 5_000

type MessageListener = (data: unknown) => void
type StatusListener = (status: SocketStatus) => void

export class ReconnectingSocket {
  private ws: WebSocket | null = null
  private timer: ReturnType<typeof setTimeout> | null = null
  private stableTimer: ReturnType<typeof setTimeout> | null = null
  private closed = false
  private status: SocketStatus = { state: 'connecting', retryAt: null, attempts: 0 }
  private readonly messageListeners = new Set<MessageListener>()
  private readonly statusListeners = new Set<StatusListener>()
  private readonly path: string
  private readonly maxDelayMs: number

  constructor(path: string, maxDelayMs = 10_000) {
    this.path = path
    this.maxDelayMs = maxDelayMs
    this.connect()
  }

  get current(): SocketStatus {
    return this.status
  }

  onMessage(listener: MessageListener): () => void {
    this.messageListeners.add(listener)
    return () => this.messageListeners.delete(listener)
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener)
    listener(this.status)
    return () => this.statusListeners.delete(listener)
  }

  /** Sends a JSON message; false when the socket is not open. */
  send(message: unknown): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false
    this.ws.send(JSON.stringify(message))
    return true
  }

  /** Retry now instead of waiting for the backoff timer. */
  retryNow(): void {
    if (this.status.state !== 'offline') return
    if (this.timer) clearTimeout(this.timer)
    this.connect()
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    if (this.stableTimer) clearTimeout(this.stableTimer)
    this.ws?.close()
  }

  private setStatus(status: SocketStatus): void {
    this.status = status
    this.statusListeners.forEach((l) => l(status))
  }

  private connect(): void {
    if (this.closed) return
    this.setStatus({ ...this.status, state: 'connecting', retryAt: null })
    const ws = new WebSocket(wsUrl(this.path))
    this.ws = ws
    ws.onopen = () => {
      this.setStatus({ ...this.status, state: 'open', retryAt: null })
      // Back off from scratch only once a connection has held for a while; a server that
      // accepts and drops at once must not be hammered.
      this.stableTimer = setTimeout(() => {
        if (this.ws === ws) this.status = { ...this.status, attempts: 0 }
      }, STABLE_MS)
    }
    ws.onmessage = (ev) => {
      let data: unknown
      try {
        data = JSON.parse(String(ev.data))
      } catch {
        return
      }
      this.messageListeners.forEach((l) => l(data))
    }
    ws.onclose = () => {
      if (this.stableTimer) clearTimeout(this.stableTimer)
      if (this.ws !== ws || this.closed) return
      const attempts = this.status.attempts + 1
      const base = Math.min(this.maxDelayMs, 500 * 2 ** (attempts - 1))
      const delay = base / 2 + Math.random() * (base / 2)
      this.setStatus({ state: 'offline', retryAt: Date.now() + delay, attempts })
      this.timer = setTimeout(() => this.connect(), delay)
    }
  }
}

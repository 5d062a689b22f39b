import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ReconnectingSocket, type SocketStatus } from '../api/socket'

class FakeWebSocket {
  static readonly OPEN = 1
  static instances: FakeWebSocket[] = []
  readyState = 0
  sent: string[] = []
  onopen: (() => void) | null = null
  onclose: (() => void) | null = null
  onmessage: ((ev: { data: string }) => void) | null = null
  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this)
  }
  send(data: string) {
    this.sent.push(data)
  }
  close() {
    this.readyState = 3
    this.onclose?.()
  }
  open() {
    this.readyState = 1
    this.onopen?.()
  }
}

beforeEach(() => {
  FakeWebSocket.instances = []
  vi.stubGlobal('WebSocket', FakeWebSocket)
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('ReconnectingSocket', () => {
  it('reconnects with growing, capped backoff and resets after a good connection', () => {
    const socket = new ReconnectingSocket('/ws/chat', 2000)
    const seen: SocketStatus[] = []
    socket.onStatus((s) => seen.push(s))
    const ws = () => FakeWebSocket.instances[FakeWebSocket.instances.length - 1]
    expect(ws().url).toMatch(/\/ws\/chat$/)
    expect(socket.send({ type: 'ping' })).toBe(false) // not open yet

    ws().open()
    expect(socket.current.state).toBe('open')
    expect(socket.send({ type: 'chat' })).toBe(true)
    expect(JSON.parse(ws().sent[0])).toEqual({ type: 'chat' })

    const delays: number[] = []
    for (let attempt = 1; attempt <= 5; attempt++) {
      const before = Date.now()
      ws().close()
      expect(socket.current.state).toBe('offline')
      expect(socket.current.attempts).toBe(attempt)
      const delay = (socket.current.retryAt ?? 0) - before
      delays.push(delay)
      const count = FakeWebSocket.instances.length
      vi.advanceTimersByTime(Math.floor(delay) - 1)
      expect(FakeWebSocket.instances.length).toBe(count) // not before its time
      vi.advanceTimersByTime(2)
      expect(FakeWebSocket.instances.length).toBe(count + 1)
    }
    // 0.5 s base doubling (with up to 50% jitter below), capped at 2 s here.
    expect(delays[0]).toBeLessThanOrEqual(500)
    expect(delays[1]).toBeGreaterThanOrEqual(500)
    expect(Math.max(...delays)).toBeLessThanOrEqual(2000)
    expect(delays[4]).toBeGreaterThanOrEqual(1000)

    // A connection that holds for 5 s resets the backoff; one dropped at once does not.
    ws().open()
    expect(socket.current).toMatchObject({ state: 'open', attempts: 5 })
    vi.advanceTimersByTime(5000)
    expect(socket.current).toMatchObject({ state: 'open', attempts: 0 })
    expect(seen.map((s) => s.state)).toContain('connecting')
    socket.close()
  })

  it('retryNow skips the wait, and close stops reconnecting', () => {
    const socket = new ReconnectingSocket('/ws/monitoring')
    FakeWebSocket.instances[0].close()
    expect(socket.current.state).toBe('offline')
    socket.retryNow()
    expect(FakeWebSocket.instances.length).toBe(2)
    socket.close()
    vi.advanceTimersByTime(60_000)
    expect(FakeWebSocket.instances.length).toBe(2)
  })

  it('delivers parsed JSON messages and drops garbage', () => {
    const socket = new ReconnectingSocket('/ws/chat')
    const got: unknown[] = []
    socket.onMessage((m) => got.push(m))
    const ws = FakeWebSocket.instances[0]
    ws.open()
    ws.onmessage?.({ data: '{"type":"done","id":"r1"}' })
    ws.onmessage?.({ data: 'not json' })
    expect(got).toEqual([{ type: 'done', id: 'r1' }])
    socket.close()
  })
})

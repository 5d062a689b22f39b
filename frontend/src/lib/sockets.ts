// One socket per endpoint for the whole page, created on first use, so a reply
// keeps streaming while the user looks at another page.
import { useEffect, useState } from 'react'
import { ReconnectingSocket, type SocketStatus } from '../api/socket'

const sockets = new Map<string, ReconnectingSocket>()

export function getSocket(path: '/ws/chat' | '/ws/monitoring'): ReconnectingSocket {
  let s = sockets.get(path)
  if (!s) {
    s = new ReconnectingSocket(path)
    sockets.set(path, s)
  }
  return s
}

export function useSocketStatus(socket: ReconnectingSocket): SocketStatus {
  const [status, setStatus] = useState(socket.current)
  useEffect(() => socket.onStatus(setStatus), [socket])
  return status
}

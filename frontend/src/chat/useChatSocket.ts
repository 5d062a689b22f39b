// The chat's side of /ws/chat: server messages go to the transcript reducer, a dropped
// socket ends the replies it carried, and each running request is cancelled once.
import { useCallback, useEffect, useRef, type Dispatch } from 'react'
import type { ChatRequest, ChatServerMessage } from '../api/types'
import { getSocket } from '../lib/sockets'
import type { ChatAction, ChatMessage } from './stream'

export function useChatSocket(messages: ChatMessage[], dispatch: Dispatch<ChatAction>) {
  const socket = getSocket('/ws/chat')
  const streamingIds = useRef<Set<string>>(new Set())
  useEffect(() => {
    for (const m of messages) if (m.status === 'streaming' && m.requestId) streamingIds.current.add(m.requestId)
  }, [messages])

  useEffect(() => {
    const offMsg = socket.onMessage((data) => {
      const msg = data as ChatServerMessage
      if (msg && typeof msg === 'object' && 'type' in msg) dispatch({ type: 'server', message: msg })
    })
    const offStatus = socket.onStatus((s) => {
      if (s.state !== 'offline') return
      for (const id of streamingIds.current) dispatch({ type: 'lost', requestId: id })
      streamingIds.current.clear()
    })
    return () => {
      offMsg()
      offStatus()
    }
  }, [socket, dispatch])

  /** Sends a chat request; when the socket is down, the reply ends with a network error. */
  const send = useCallback(
    (requestId: string, request: ChatRequest) => {
      if (socket.send({ type: 'chat', id: requestId, request })) return
      dispatch({
        type: 'server',
        message: {
          type: 'error',
          id: requestId,
          status: 0,
          error: { message: 'Not connected to the connector; retrying the connection.', type: 'network_error', param: null, code: null },
        },
      })
    },
    [socket, dispatch],
  )

  // One cancel per request: Stop clicked twice or Esc held down must not repeat it.
  const cancelled = useRef<Set<string>>(new Set())
  const stop = useCallback(() => {
    for (const m of messages) {
      if (m.status !== 'streaming' || !m.requestId || cancelled.current.has(m.requestId)) continue
      if (socket.send({ type: 'cancel', id: m.requestId })) cancelled.current.add(m.requestId)
    }
  }, [messages, socket])

  return { socket, send, stop }
}

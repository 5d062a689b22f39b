// The chat transcript as a pure reducer: user turns, and assistant turns built
// from the WebSocket's chunk / done / error / cancelled messages.
import type { ChatServerMessage, ErrorObject, Metrics, Usage } from '../api/types'

export type MessageStatus = 'streaming' | 'done' | 'error' | 'cancelled'

export interface ChatMessage {
  key: string
  role: 'user' | 'assistant'
  content: string
  reasoning: string
  status: MessageStatus
  requestId?: string
  parsed?: unknown
  usage?: Usage | null
  metrics?: Partial<Metrics> | null
  error?: ErrorObject & { status: number }
  model?: string
}

export interface ChatState {
  messages: ChatMessage[]
}

export type ChatAction =
  | { type: 'load'; messages: ChatMessage[] }
  | { type: 'user'; key: string; content: string }
  | { type: 'start'; key: string; requestId: string; model?: string }
  | { type: 'server'; message: ChatServerMessage }
  | { type: 'lost'; requestId: string }
  /** Drops messages from index `from` on (regenerate, edit last). */
  | { type: 'truncate'; from: number }

export const initialChatState: ChatState = { messages: [] }

function updateByRequest(state: ChatState, requestId: string | null, fn: (m: ChatMessage) => ChatMessage): ChatState {
  if (requestId == null) return state
  const index = state.messages.findIndex((m) => m.requestId === requestId)
  if (index < 0) return state
  const messages = state.messages.slice()
  messages[index] = fn(messages[index])
  return { messages }
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'load':
      return { messages: action.messages }
    case 'user':
      return {
        messages: [...state.messages, { key: action.key, role: 'user', content: action.content, reasoning: '', status: 'done' }],
      }
    case 'start':
      return {
        messages: [
          ...state.messages,
          {
            key: action.key,
            role: 'assistant',
            content: '',
            reasoning: '',
            status: 'streaming',
            requestId: action.requestId,
            model: action.model,
          },
        ],
      }
    case 'truncate':
      return { messages: state.messages.slice(0, action.from) }
    case 'lost':
      return updateByRequest(state, action.requestId, (m) =>
        m.status === 'streaming'
          ? {
              ...m,
              status: 'error',
              error: { status: 0, message: 'Connection to the connector was lost.', type: 'network_error', param: null, code: null },
            }
          : m,
      )
    case 'server':
      return applyServerMessage(state, action.message)
  }
}

function applyServerMessage(state: ChatState, msg: ChatServerMessage): ChatState {
  switch (msg.type) {
    case 'chunk':
      return updateByRequest(state, msg.id, (m) => {
        if (m.status !== 'streaming') return m
        let { content, reasoning } = m
        for (const choice of msg.chunk.choices ?? []) {
          if (choice.delta?.content) content += choice.delta.content
          if (choice.delta?.reasoning_content) reasoning += choice.delta.reasoning_content
        }
        return {
          ...m,
          content,
          reasoning,
          usage: msg.chunk.usage ?? m.usage,
          metrics: msg.chunk.metrics ?? m.metrics,
          parsed: msg.chunk.parsed ?? m.parsed,
        }
      })
    case 'done':
      return updateByRequest(state, msg.id, (m) => {
        const message = msg.response.choices?.[0]?.message
        return {
          ...m,
          status: 'done',
          // The final response is authoritative; chunks only preview it.
          content: message?.content ?? m.content,
          reasoning: message?.reasoning_content ?? m.reasoning,
          parsed: message?.parsed ?? m.parsed,
          usage: msg.response.usage ?? m.usage,
          metrics: msg.response.metrics ?? m.metrics,
          model: msg.response.model ?? m.model,
        }
      })
    case 'error':
      return updateByRequest(state, msg.id, (m) => ({ ...m, status: 'error', error: { ...msg.error, status: msg.status } }))
    case 'cancelled':
      return updateByRequest(state, msg.id, (m) => (m.status === 'streaming' ? { ...m, status: 'cancelled' } : m))
  }
}

export function isStreaming(state: ChatState): boolean {
  return state.messages.some((m) => m.status === 'streaming')
}

// The chat's place in the URL: /app/chat (a new chat) or /app/chat/{conversation id}.
import { useLocation, useNavigate } from 'react-router'

let last = '/app/chat'

/** The chat path last shown, so the nav link returns to the open conversation. */
export const lastChatPath = (): string => last

/** The conversation id in a chat path; null for a new chat, undefined off the chat. */
export function conversationIdOf(path: string): string | null | undefined {
  if (path === '/app/chat' || path === '/app/chat/') return null
  if (!path.startsWith('/app/chat/')) return undefined
  return decodeURIComponent(path.slice('/app/chat/'.length)) || null
}

export function chatPath(id: string | null): string {
  return id ? `/app/chat/${encodeURIComponent(id)}` : '/app/chat'
}

export function useChatRoute() {
  const path = useLocation().pathname
  const nav = useNavigate()
  const id = conversationIdOf(path)
  if (id !== undefined) last = path
  return {
    onChatRoute: id !== undefined,
    routeId: id ?? null,
    /** Show a conversation (replace: without a history entry, as when a new chat is saved). */
    open: (conversationId: string | null, replace = false) => nav(chatPath(conversationId), { replace }),
  }
}

// The chat request sent on /ws/chat for a transcript and the chosen options.
import type { ProviderName } from '../api/rest'
import type { ChatRequest } from '../api/types'
import { requestFields, type Options } from './ChatOptions'
import type { ChatMessage } from './stream'

export interface RequestChoice {
  /** GET /models has answered: before that (or with no model typed) the server's defaults apply. */
  known: boolean
  provider: ProviderName
  model: string
  /** The endpoint's kind (GET /models): what the options may send depends on it. */
  kind?: string
}

export function buildChatRequest(
  history: ChatMessage[],
  options: Options,
  choice: RequestChoice,
  schema: Record<string, unknown> | null,
): ChatRequest {
  const request: ChatRequest = {
    ...(choice.known ? { provider: choice.provider } : {}),
    ...(choice.known && choice.model ? { model: choice.model } : {}),
    stream: true,
    messages: [
      ...(options.system.trim() ? [{ role: 'system' as const, content: options.system }] : []),
      // Failed turns and empty ones are not part of what the model is asked.
      ...history.filter((m) => m.content && m.status !== 'error').map((m) => ({ role: m.role, content: m.content })),
    ],
  }
  Object.assign(request, requestFields(options, choice.kind ?? ''))
  if (schema) request.response_format = { type: 'json_schema', json_schema: { name: 'reply', schema, strict: true } }
  return request
}

/** A conversation title from the first thing said. */
export function titleFrom(text: string | undefined): string {
  return (text ?? 'New chat').replace(/\s+/g, ' ').slice(0, 60)
}

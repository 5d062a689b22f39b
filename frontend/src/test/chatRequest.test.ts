import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/errors'
import { shouldRetry } from '../api/queryClient'
import { DEFAULT_OPTIONS } from '../chat/ChatOptions'
import { buildChatRequest, titleFrom } from '../chat/request'
import type { ChatMessage } from '../chat/stream'
import { chatPath, conversationIdOf } from '../chat/useChatRoute'

const turn = (role: 'user' | 'assistant', content: string, status: ChatMessage['status'] = 'done'): ChatMessage => ({
  key: `${role}${content}`, role, content, reasoning: '', status,
})

describe('the chat request', () => {
  it('sends the system prompt and the turns, without failed or empty ones', () => {
    const history = [turn('user', 'Hi'), turn('assistant', '', 'error'), turn('assistant', 'Hello'), turn('user', 'Why?')]
    const r = buildChatRequest(history, { ...DEFAULT_OPTIONS, system: 'Be brief.' }, { known: true, provider: 'ollama', model: 'gpt-oss:20b' }, null)
    expect(r).toMatchObject({ provider: 'ollama', model: 'gpt-oss:20b', stream: true })
    expect(r.messages.map((m) => `${m.role}:${m.content}`)).toEqual(['system:Be brief.', 'user:Hi', 'assistant:Hello', 'user:Why?'])
  })

  it('leaves provider and model to the server before GET /models answers, and asks for a schema', () => {
    const schema = { type: 'object' }
    const r = buildChatRequest([turn('user', 'Hi')], DEFAULT_OPTIONS, { known: false, provider: 'ollama', model: 'x' }, schema)
    expect(r.provider).toBeUndefined()
    expect(r.model).toBeUndefined()
    expect(r.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'reply', schema, strict: true } })
  })

  it('titles a conversation from its first words', () => {
    expect(titleFrom('  a\n\nlong   question ')).toBe(' a long question ')
    expect(titleFrom(undefined)).toBe('New chat')
    expect(titleFrom('x'.repeat(100))).toHaveLength(60)
  })
})

describe('chat routes', () => {
  it('reads the conversation id from the path, and writes it back', () => {
    expect(conversationIdOf('/app/chat')).toBeNull()
    expect(conversationIdOf('/app/chat/a%20b')).toBe('a b')
    expect(conversationIdOf('/app/settings')).toBeUndefined()
    expect(chatPath('a b')).toBe('/app/chat/a%20b')
    expect(chatPath(null)).toBe('/app/chat')
  })
})

describe('query retries', () => {
  it('retries once what may pass (offline, 5xx), never a refusal', () => {
    expect(shouldRetry(0, new ApiError(0, 'offline'))).toBe(true)
    expect(shouldRetry(0, new ApiError(503, 'busy'))).toBe(true)
    expect(shouldRetry(1, new ApiError(503, 'busy'))).toBe(false)
    expect(shouldRetry(0, new ApiError(401, 'token'))).toBe(false)
    expect(shouldRetry(0, new ApiError(404, 'gone'))).toBe(false)
  })
})

import { describe, expect, it } from 'vitest'
import type { ChatServerMessage } from '../api/types'
import { chatReducer, initialChatState, isStreaming, type ChatState } from '../chat/stream'

const chunk = (id: string, delta: { content?: string; reasoning_content?: string }): ChatServerMessage => ({
  type: 'chunk',
  id,
  chunk: { id: 'c1', created: 0, model: 'gpt-oss:20b', provider: 'ollama', choices: [{ index: 0, delta }] },
})

function started(requestId = 'r1'): ChatState {
  let s = chatReducer(initialChatState, { type: 'user', key: 'u1', content: 'Why is the sky blue?' })
  s = chatReducer(s, { type: 'start', key: 'a1', requestId, model: 'gpt-oss:20b' })
  return s
}

const server = (s: ChatState, message: ChatServerMessage) => chatReducer(s, { type: 'server', message })

describe('chat stream reducer', () => {
  it('appends content chunks in order and keeps reasoning separate', () => {
    let s = started()
    expect(isStreaming(s)).toBe(true)
    s = server(s, chunk('r1', { reasoning_content: 'The user asks ' }))
    s = server(s, chunk('r1', { reasoning_content: 'about light.' }))
    s = server(s, chunk('r1', { content: 'Rayleigh ' }))
    s = server(s, chunk('r1', { content: 'scattering.' }))
    const reply = s.messages[1]
    expect(reply.role).toBe('assistant')
    expect(reply.content).toBe('Rayleigh scattering.')
    expect(reply.reasoning).toBe('The user asks about light.')
    expect(reply.content).not.toContain('The user asks')
    expect(reply.status).toBe('streaming')
    expect(s.messages[0].content).toBe('Why is the sky blue?')
  })

  it('done sets the final text, usage, metrics and parsed output', () => {
    let s = server(started(), chunk('r1', { content: '{"colors":' }))
    s = server(s, {
      type: 'done',
      id: 'r1',
      response: {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-oss:20b',
        provider: 'ollama',
        choices: [
          {
            index: 0,
            finish_reason: 'stop',
            message: { role: 'assistant', content: '{"colors":["red"]}', reasoning_content: 'think', parsed: { colors: ['red'] } },
          },
        ],
        usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 },
        metrics: { latency_ms: 812.3, ttft_ms: 120.5, tokens_per_s: 41.2, cost_usd: 0, reference_cost_usd: 0.000021 },
      },
    })
    const reply = s.messages[1]
    expect(reply.status).toBe('done')
    expect(reply.content).toBe('{"colors":["red"]}')
    expect(reply.reasoning).toBe('think')
    expect(reply.parsed).toEqual({ colors: ['red'] })
    expect(reply.usage?.total_tokens).toBe(42)
    expect(reply.metrics?.ttft_ms).toBe(120.5)
    expect(isStreaming(s)).toBe(false)
  })

  it('error marks the reply failed with status and message, keeping text so far', () => {
    let s = server(started(), chunk('r1', { content: 'partial' }))
    s = server(s, {
      type: 'error',
      id: 'r1',
      status: 404,
      error: { message: "model 'llama9' not found, try `ollama pull llama9`", type: 'not_found_error', param: null, code: 'model_not_found' },
    })
    const reply = s.messages[1]
    expect(reply.status).toBe('error')
    expect(reply.error?.status).toBe(404)
    expect(reply.error?.message).toContain('ollama pull')
    expect(reply.content).toBe('partial')
    expect(isStreaming(s)).toBe(false)
  })

  it('cancelled stops the reply and later chunks are ignored', () => {
    let s = server(started(), chunk('r1', { content: 'Once upon' }))
    s = server(s, { type: 'cancelled', id: 'r1' })
    s = server(s, chunk('r1', { content: ' a time' }))
    expect(s.messages[1].status).toBe('cancelled')
    expect(s.messages[1].content).toBe('Once upon')
  })

  it('ignores messages for other request ids and errors without an id', () => {
    const before = started('r1')
    let s = server(before, chunk('r2', { content: 'not mine' }))
    s = server(s, { type: 'error', id: null, status: 400, error: { message: 'bad json', type: 'invalid_request_error', param: null, code: null } })
    expect(s.messages[1].content).toBe('')
    expect(s.messages[1].status).toBe('streaming')
  })

  it('a lost connection fails the streaming reply; truncate drops the tail', () => {
    let s = chatReducer(started(), { type: 'lost', requestId: 'r1' })
    expect(s.messages[1].status).toBe('error')
    expect(s.messages[1].error?.status).toBe(0)
    s = chatReducer(s, { type: 'truncate', from: 1 })
    expect(s.messages.map((m) => m.role)).toEqual(['user'])
  })
})

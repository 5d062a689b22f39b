import { describe, expect, it } from 'vitest'
import { DEFAULT_OPTIONS as base, requestFields } from '../chat/ChatOptions'

describe('requestFields', () => {
  it('sends nothing for model defaults', () => {
    expect(requestFields(base, 'ollama')).toEqual({})
    expect(requestFields(base, 'openai-compatible')).toEqual({})
  })

  it('sends temperature and reasoning effort to either provider', () => {
    const o = { ...base, temperatureOn: true, temperature: 0.2, effort: 'high' as const }
    expect(requestFields(o, 'openai-compatible')).toEqual({ temperature: 0.2, reasoning_effort: 'high' })
  })

  it("sends the context length as Ollama's num_ctx, and only to Ollama", () => {
    const o = { ...base, contextLength: 32768 }
    expect(requestFields(o, 'ollama')).toEqual({ options: { num_ctx: 32768 } })
    expect(requestFields(o, 'openai-compatible')).toEqual({})
  })
})

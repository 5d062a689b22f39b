import { describe, expect, it } from 'vitest'
import { healthState, splitList } from '../endpoints/api'

describe('endpoint helpers', () => {
  it('splits target lists and model filters as typed', () => {
    expect(splitList('lab/qwen2.5-coder, openai/gpt-4o-mini\n ollama/qwen3:8b ,')).toEqual([
      'lab/qwen2.5-coder',
      'openai/gpt-4o-mini',
      'ollama/qwen3:8b',
    ])
    expect(splitList('  ')).toEqual([])
  })

  it('names the health state', () => {
    const h = { name: 'lab', up: true, last_error: null, latency_ms: 3, checked_at: null, models: 2 }
    expect(healthState(h)).toBe('up')
    expect(healthState({ ...h, up: false })).toBe('down')
    expect(healthState({ ...h, up: null })).toBe('unknown')
    expect(healthState(h, false)).toBe('off')
    expect(healthState(undefined)).toBe('unknown')
  })
})

// Chat turns <-> the messages saved with PUT /conversations/{id}/messages. Usage and the
// model travel inside `metrics`, so a reloaded reply shows the same numbers.
import type { MessageIn, StoredMessage } from '../api/rest'
import { uid } from '../lib/format'
import type { ChatMessage } from './stream'

export function toStored(messages: ChatMessage[], system: string): MessageIn[] {
  const out: MessageIn[] = system.trim() ? [{ role: 'system', content: system }] : []
  for (const m of messages) {
    if (m.status === 'streaming') continue
    if (m.role === 'assistant' && m.status === 'error' && !m.content) continue
    out.push({
      role: m.role,
      content: m.content,
      reasoning_content: m.reasoning || null,
      parsed: m.parsed ?? null,
      metrics:
        m.role === 'assistant'
          ? {
              ...(m.metrics ?? {}),
              ...(m.usage
                ? { prompt_tokens: m.usage.prompt_tokens, completion_tokens: m.usage.completion_tokens, total_tokens: m.usage.total_tokens }
                : {}),
              ...(m.model ? { model: m.model } : {}),
            }
          : null,
    })
  }
  return out
}

export function fromStored(messages: StoredMessage[]): { system: string; messages: ChatMessage[] } {
  let system = ''
  const out: ChatMessage[] = []
  for (const s of messages) {
    if (s.role === 'system') {
      system = s.content
      continue
    }
    const metrics = (s.metrics ?? null) as Record<string, unknown> | null
    const num = (k: string) => (typeof metrics?.[k] === 'number' ? (metrics[k] as number) : undefined)
    const total = num('total_tokens')
    out.push({
      key: uid('m'),
      role: s.role === 'user' ? 'user' : 'assistant',
      content: s.content ?? '',
      reasoning: s.reasoning_content ?? '',
      status: 'done',
      parsed: s.parsed ?? undefined,
      metrics: metrics
        ? {
            latency_ms: num('latency_ms'),
            ttft_ms: num('ttft_ms'),
            tokens_per_s: num('tokens_per_s'),
            cost_usd: num('cost_usd'),
            reference_cost_usd: num('reference_cost_usd'),
          }
        : null,
      usage:
        total !== undefined
          ? { prompt_tokens: num('prompt_tokens') ?? 0, completion_tokens: num('completion_tokens') ?? 0, total_tokens: total }
          : null,
      model: typeof metrics?.model === 'string' ? metrics.model : undefined,
    })
  }
  return { system, messages: out }
}

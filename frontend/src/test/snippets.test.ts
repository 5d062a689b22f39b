import { describe, expect, it } from 'vitest'
import { buildSnippets, describeSeen, NO_KEY, seenClient, startOfToday, type Dialect } from '../connect/snippets'

const ALL: Dialect[] = ['openai_chat', 'embeddings', 'anthropic', 'responses', 'ollama']
const base = { baseUrl: 'http://127.0.0.1:8123', model: 'gpt-oss:20b' }
const ids = (dialects: Dialect[], key: string | null = null) => buildSnippets({ ...base, dialects, key }).map((s) => s.id)
const byId = (id: string, key: string | null = null, dialects: Dialect[] = ALL) => {
  const found = buildSnippets({ ...base, dialects, key }).find((s) => s.id === id)
  if (!found) throw new Error(`no snippet ${id}`)
  return found
}

describe('buildSnippets', () => {
  it('offers only what the server serves', () => {
    expect(ids(['openai_chat'])).toEqual(['open-webui', 'continue', 'openai-python', 'curl'])
    expect(ids(ALL)).toEqual([
      'claude-code',
      'codex',
      'open-webui',
      'vscode-copilot',
      'zed',
      'continue',
      'openai-python',
      'anthropic-python',
      'ollama-python',
      'curl',
    ])
    expect(ids(['openai_chat', 'anthropic'])).toContain('claude-code')
    expect(ids(['openai_chat', 'anthropic'])).not.toContain('codex')
  })

  it('puts the live address in every snippet', () => {
    for (const s of buildSnippets({ ...base, dialects: ALL, key: null })) expect(s.text).toContain('127.0.0.1:8123')
  })

  it('sends no key when none is needed, and the key when one is', () => {
    expect(byId('curl').text).not.toContain('Authorization')
    expect(byId('curl', 'aic-secret').text).toContain('-H "Authorization: Bearer aic-secret"')
    expect(byId('openai-python').text).toContain(`api_key="${NO_KEY}"`)
    expect(byId('openai-python', 'aic-secret').text).toContain('api_key="aic-secret"')
    expect(byId('claude-code', 'aic-secret').text).toContain('ANTHROPIC_AUTH_TOKEN=aic-secret')
    expect(byId('codex').text).not.toContain('env_key')
    expect(byId('codex', 'aic-secret').text).toContain('env_key = "AI_CONNECTOR_KEY"')
    expect(byId('ollama-python', 'aic-secret').text).toContain('headers={"Authorization": "Bearer aic-secret"}')
  })

  it('gives clients that cannot send a key the OpenAI form when a key is needed', () => {
    expect(byId('continue').text).toContain('provider: ollama')
    const keyed = byId('continue', 'aic-secret').text
    expect(keyed).toContain('provider: openai')
    expect(keyed).toContain('apiBase: http://127.0.0.1:8123/v1')
    expect(keyed).toContain('apiKey: aic-secret')
    expect(byId('open-webui', 'aic-secret').text).toBe(
      'OPENAI_API_BASE_URL=http://127.0.0.1:8123/v1 OPENAI_API_KEY=aic-secret open-webui serve',
    )
    expect(byId('zed', 'aic-secret').note).toMatch(/sends no key/)
  })

  it('writes valid JSON settings and a curl body that parses', () => {
    expect(JSON.parse(byId('zed').text)).toEqual({ language_models: { ollama: { api_url: 'http://127.0.0.1:8123' } } })
    expect(JSON.parse(byId('vscode-copilot').text)).toEqual({ 'github.copilot.chat.byok.ollamaEndpoint': 'http://127.0.0.1:8123' })
    const body = /-d '(.*)'$/m.exec(byId('curl').text)?.[1] ?? ''
    expect(JSON.parse(body)).toEqual({ model: 'gpt-oss:20b', messages: [{ role: 'user', content: 'Hello!' }] })
  })

  it('points Codex at the Responses API under /v1', () => {
    const text = byId('codex').text
    expect(text).toContain('base_url = "http://127.0.0.1:8123/v1"')
    expect(text).toContain('wire_api = "responses"')
  })
})

describe('seen programs', () => {
  const clients = [
    { client: 'curl/8.5.0', requests: 1, total_requests: 4, last_seen: '2026-12-01T10:00:00Z', last_surface: 'v1' as const },
    { client: 'claude-cli/2.1.197', requests: 3, total_requests: 3, last_seen: '2026-12-01T11:58:00Z', last_surface: 'anthropic' as const },
    { client: 'curl/8.6.0', requests: 2, total_requests: 2, last_seen: '2026-12-01T11:00:00Z', last_surface: 'v1' as const },
  ]

  it('matches a snippet to the newest record of its program', () => {
    expect(seenClient(byId('claude-code'), clients)?.client).toBe('claude-cli/2.1.197')
    expect(seenClient(byId('curl'), clients)?.client).toBe('curl/8.6.0')
    expect(seenClient(byId('zed'), clients)).toBeNull()
  })

  it('says what, how much today and how long ago', () => {
    const now = Date.parse('2026-12-01T12:00:00Z')
    expect(describeSeen(clients[1], now)).toBe('claude-cli/2.1.197 · 3 requests today · last 2 min ago')
    expect(describeSeen(clients[0], now)).toBe('curl/8.5.0 · 1 request today · last 2 h ago')
    expect(describeSeen({ ...clients[0], last_seen: '2026-12-01T11:59:30Z' }, now)).toContain('last just now')
  })

  it('counts today from local midnight', () => {
    const since = new Date(startOfToday(new Date(2026, 11, 1, 15, 30)))
    expect([since.getFullYear(), since.getMonth(), since.getDate(), since.getHours(), since.getMinutes()]).toEqual([2026, 11, 1, 0, 0])
  })
})

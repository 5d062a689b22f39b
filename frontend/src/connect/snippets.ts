// "Connect your tools": the exact settings or command each program needs to reach
// this connector, built from the live address, the key (when programs need one)
// and the dialects the server really has. A pure function, so the texts are tested.
import type { SettingsView } from '../api/rest'

export type Dialect = SettingsView['dialects'][number]
export type Language = 'bash' | 'json' | 'python' | 'toml' | 'yaml'

export interface ConnectContext {
  /** e.g. http://127.0.0.1:8000 */
  baseUrl: string
  /** What programs must send, or null when the model API is open to them. */
  key: string | null
  /** The dialects the server serves (GET /settings `dialects`). */
  dialects: readonly Dialect[]
  /** The model to name in the examples. */
  model: string
}

export interface Snippet {
  id: string
  title: string
  /** Where the text goes. */
  where: string
  language: Language
  text: string
  /** Matches the `client` of the program's usage records ("claude-cli/2.1.197"). */
  client: RegExp | null
  /** A caveat worth reading before pasting. */
  note?: string
}

// What an SDK that insists on a key gets when the connector wants none.
export const NO_KEY = 'unused'

const json = (value: unknown) => JSON.stringify(value, null, 2)
const pyStr = (value: string) => JSON.stringify(value)

function chatBody(model: string): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }] })
}

function claudeCode(c: ConnectContext): Snippet {
  return {
    id: 'claude-code',
    title: 'Claude Code',
    where: 'In a terminal',
    language: 'bash',
    text: [
      `export ANTHROPIC_BASE_URL=${c.baseUrl}`,
      `export ANTHROPIC_AUTH_TOKEN=${c.key ?? NO_KEY}`,
      'export ANTHROPIC_API_KEY=""',
      `claude --model ${c.model}`,
    ].join('\n'),
    client: /^claude-cli\//i,
    note: 'Agents send long prompts: give the model a context of 64k tokens or more.',
  }
}

function codex(c: ConnectContext): Snippet {
  const lines = [
    `model = ${pyStr(c.model)}`,
    'model_provider = "ai-connector"',
    '',
    '[model_providers.ai-connector]',
    'name = "AI Connector"',
    `base_url = "${c.baseUrl}/v1"`,
    'wire_api = "responses"',
  ]
  if (c.key) lines.push('env_key = "AI_CONNECTOR_KEY"')
  return {
    id: 'codex',
    title: 'Codex CLI',
    where: c.key ? '~/.codex/config.toml, then `export AI_CONNECTOR_KEY=…` before `codex`' : '~/.codex/config.toml',
    language: 'toml',
    text: c.key ? `${lines.join('\n')}\n\n# in the shell that runs codex:\n# export AI_CONNECTOR_KEY=${c.key}` : lines.join('\n'),
    client: /^codex/i,
  }
}

function openWebUI(c: ConnectContext, ollama: boolean): Snippet {
  const text = ollama
    ? `OLLAMA_BASE_URL=${c.baseUrl} open-webui serve`
    : `OPENAI_API_BASE_URL=${c.baseUrl}/v1 OPENAI_API_KEY=${c.key ?? NO_KEY} open-webui serve`
  return {
    id: 'open-webui',
    title: 'Open WebUI',
    where: ollama ? 'In a terminal (or Admin settings → Connections → Ollama API)' : 'In a terminal (or Admin settings → Connections → OpenAI API)',
    language: 'bash',
    text,
    client: /open-?webui/i,
    note: 'In Docker, run it with --network=host: the connector answers on this machine’s loopback only.',
  }
}

function copilot(c: ConnectContext): Snippet {
  return {
    id: 'vscode-copilot',
    title: 'VS Code Copilot Chat',
    where: 'settings.json, then Chat → Manage Models → Ollama',
    language: 'json',
    text: json({ 'github.copilot.chat.byok.ollamaEndpoint': c.baseUrl }),
    client: /copilot|vscode/i,
    note: c.key ? 'Copilot’s Ollama provider sends no key: it works while “Programs need a key” is off.' : undefined,
  }
}

function zed(c: ConnectContext): Snippet {
  return {
    id: 'zed',
    title: 'Zed',
    where: '~/.config/zed/settings.json',
    language: 'json',
    text: json({ language_models: { ollama: { api_url: c.baseUrl } } }),
    client: /^zed\//i,
    note: c.key ? 'Zed’s Ollama provider sends no key: it works while “Programs need a key” is off.' : undefined,
  }
}

function continueDev(c: ConnectContext, ollama: boolean): Snippet {
  const lines = ['models:', `  - name: ${c.model} (AI Connector)`]
  if (ollama) lines.push('    provider: ollama', `    model: ${c.model}`, `    apiBase: ${c.baseUrl}`)
  else lines.push('    provider: openai', `    model: ${c.model}`, `    apiBase: ${c.baseUrl}/v1`, `    apiKey: ${c.key ?? NO_KEY}`)
  return {
    id: 'continue',
    title: 'Continue',
    where: '~/.continue/config.yaml',
    language: 'yaml',
    text: lines.join('\n'),
    client: /continue/i,
  }
}

function openaiPython(c: ConnectContext): Snippet {
  return {
    id: 'openai-python',
    title: 'openai (Python)',
    where: 'pip install openai',
    language: 'python',
    text: [
      'from openai import OpenAI',
      '',
      `client = OpenAI(base_url=${pyStr(`${c.baseUrl}/v1`)}, api_key=${pyStr(c.key ?? NO_KEY)})`,
      'reply = client.chat.completions.create(',
      `    model=${pyStr(c.model)},`,
      '    messages=[{"role": "user", "content": "Hello!"}],',
      ')',
      'print(reply.choices[0].message.content)',
    ].join('\n'),
    client: /^openai\//i,
  }
}

function anthropicPython(c: ConnectContext): Snippet {
  return {
    id: 'anthropic-python',
    title: 'anthropic (Python)',
    where: 'pip install anthropic',
    language: 'python',
    text: [
      'import anthropic',
      '',
      `client = anthropic.Anthropic(base_url=${pyStr(c.baseUrl)}, api_key=${pyStr(c.key ?? NO_KEY)})`,
      'message = client.messages.create(',
      `    model=${pyStr(c.model)},`,
      '    max_tokens=1024,',
      '    messages=[{"role": "user", "content": "Hello!"}],',
      ')',
      'print(message.content[0].text)',
    ].join('\n'),
    client: /^anthropic\//i,
  }
}

function ollamaPython(c: ConnectContext): Snippet {
  const headers = c.key ? `, headers={"Authorization": ${pyStr(`Bearer ${c.key}`)}}` : ''
  return {
    id: 'ollama-python',
    title: 'ollama (Python)',
    where: 'pip install ollama',
    language: 'python',
    text: [
      'from ollama import Client',
      '',
      `client = Client(host=${pyStr(c.baseUrl)}${headers})`,
      `response = client.chat(model=${pyStr(c.model)}, messages=[{"role": "user", "content": "Hello!"}])`,
      'print(response.message.content)',
    ].join('\n'),
    client: /^ollama-python\//i,
  }
}

function curl(c: ConnectContext): Snippet {
  const lines = [`curl ${c.baseUrl}/v1/chat/completions \\`, '  -H "Content-Type: application/json" \\']
  if (c.key) lines.push(`  -H "Authorization: Bearer ${c.key}" \\`)
  lines.push(`  -d '${chatBody(c.model)}'`)
  return { id: 'curl', title: 'curl', where: 'In a terminal', language: 'bash', text: lines.join('\n'), client: /^curl\//i }
}

/** The snippets for the dialects the server has, in the order the panel shows them. */
export function buildSnippets(c: ConnectContext): Snippet[] {
  const has = (d: Dialect) => c.dialects.includes(d)
  const ollama = has('ollama')
  const out: Snippet[] = []
  if (has('anthropic')) out.push(claudeCode(c))
  if (has('responses')) out.push(codex(c))
  out.push(openWebUI(c, ollama && !c.key))
  if (ollama) out.push(copilot(c), zed(c))
  out.push(continueDev(c, ollama && !c.key))
  out.push(openaiPython(c))
  if (has('anthropic')) out.push(anthropicPython(c))
  if (ollama) out.push(ollamaPython(c))
  out.push(curl(c))
  return out
}

/** The usage row of the program a snippet is for: the most recently seen match. */
export function seenClient<T extends { client: string; last_seen: string }>(snippet: Snippet, clients: readonly T[]): T | null {
  if (!snippet.client) return null
  let best: T | null = null
  for (const c of clients) {
    if (snippet.client.test(c.client) && (!best || c.last_seen > best.last_seen)) best = c
  }
  return best
}

/** "claude-cli/2.1.197 · 3 requests today · last 2 min ago" */
export function describeSeen(c: { client: string; requests: number; last_seen: string }, now: number = Date.now()): string {
  const ago = Math.max(0, now - Date.parse(c.last_seen))
  const mins = Math.floor(ago / 60_000)
  const when =
    ago < 60_000 ? 'just now' : mins < 60 ? `${mins} min ago` : mins < 48 * 60 ? `${Math.floor(mins / 60)} h ago` : `${Math.floor(mins / 1440)} days ago`
  const today = `${c.requests} request${c.requests === 1 ? '' : 's'} today`
  return `${c.client} · ${today} · last ${when}`
}

/** The start of today in this browser's time zone, as the `since` of /usage/clients. */
export function startOfToday(now: Date = new Date()): string {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).toISOString()
}

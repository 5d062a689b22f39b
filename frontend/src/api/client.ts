// A thin typed wrapper over fetch for the connector's REST API: adds the bearer
// token, turns error bodies into ApiError and reports 401s so the UI can ask
// for a token.
import { authHeaders, reportUnauthorized } from './auth'
import { ApiError, toApiError } from './errors'
import type {
  Conversation,
  ConversationDetail,
  ModelsResponse,
  Profile,
  ProviderTest,
  SettingsUpdate,
  SettingsView,
  StoredMessage,
  UsageReport,
} from './rest'

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response
  try {
    res = await fetch(path, {
      method,
      signal,
      headers: { ...authHeaders(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError(0, 'Cannot reach the connector', 'network_error')
  }
  if (res.status === 401) reportUnauthorized()
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let data: unknown = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = { error: { message: text.slice(0, 300) } }
  }
  if (!res.ok) throw toApiError(res.status, data)
  return data as T
}

export const api = {
  models: () => request<ModelsResponse>('GET', '/models'),
  settings: () => request<SettingsView>('GET', '/settings'),
  saveSettings: (update: SettingsUpdate) => request<SettingsView>('POST', '/settings', update),
  profile: () => request<Profile>('GET', '/profile'),
  saveProfile: (profile: Profile) => request<Profile>('POST', '/profile', profile),
  testProvider: (name: string) => request<ProviderTest>('POST', `/providers/${encodeURIComponent(name)}/test`),
  usage: (bucket: string, since?: string) =>
    request<UsageReport>('GET', `/usage?bucket=${encodeURIComponent(bucket)}${since ? `&since=${encodeURIComponent(since)}` : ''}`),
  conversations: () => request<Conversation[]>('GET', '/conversations'),
  conversation: (id: string) => request<ConversationDetail>('GET', `/conversations/${encodeURIComponent(id)}`),
  createConversation: (body: { title?: string; provider?: string; model?: string }) =>
    request<Conversation>('POST', '/conversations', body),
  updateConversation: (id: string, body: { title?: string; provider?: string; model?: string }) =>
    request<Conversation>('PATCH', `/conversations/${encodeURIComponent(id)}`, body),
  saveMessages: (id: string, messages: StoredMessage[]) =>
    request<unknown>('PUT', `/conversations/${encodeURIComponent(id)}/messages`, { messages }),
  deleteConversation: (id: string) => request<void>('DELETE', `/conversations/${encodeURIComponent(id)}`),
}

/** Downloads an export through fetch (so the bearer token is sent) and saves it. */
export async function downloadExport(id: string, format: 'md' | 'json', title: string): Promise<void> {
  const res = await fetch(`/conversations/${encodeURIComponent(id)}/export?format=${format}`, { headers: authHeaders() })
  if (res.status === 401) reportUnauthorized()
  if (!res.ok) throw toApiError(res.status, await res.json().catch(() => null))
  const blob = await res.blob()
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = `${title.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'conversation'}.${format}`
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

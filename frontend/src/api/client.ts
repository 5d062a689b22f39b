// The REST client: openapi-fetch typed by the schema generated from the
// service's OpenAPI. A middleware adds the bearer token and reports 401s so the
// UI can ask for a token; errors become ApiError.
import createClient, { type Middleware } from 'openapi-fetch'
import { authHeaders, reportUnauthorized } from './auth'
import { ApiError, toApiError } from './errors'
import type { MessageIn, Profile, SettingsUpdate } from './rest'
import type { components, paths } from './schema'

type S = components['schemas']

const auth: Middleware = {
  onRequest({ request }) {
    for (const [k, v] of Object.entries(authHeaders())) request.headers.set(k, v)
    return request
  },
  onResponse({ response }) {
    if (response.status === 401) reportUnauthorized()
    return response
  },
}

export const client = createClient<paths>({ baseUrl: globalThis.location?.origin ?? '' })
client.use(auth)

type Result<T> = { data?: T; error?: unknown; response: Response }

/** The body of a successful answer; otherwise an ApiError (status 0 when the server is unreachable). */
async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>
  try {
    result = await call
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError(0, 'Cannot reach the connector', 'network_error')
  }
  if (!result.response.ok) throw toApiError(result.response.status, result.error)
  return result.data as T
}

const cid = (id: string) => ({ params: { path: { conversation_id: id } } })

export const api = {
  models: () => unwrap(client.GET('/models')),
  settings: () => unwrap(client.GET('/settings')),
  saveSettings: (body: SettingsUpdate) => unwrap(client.POST('/settings', { body })),
  profile: () => unwrap(client.GET('/profile')),
  saveProfile: (body: Profile) => unwrap(client.POST('/profile', { body })),
  revealProgramKey: () => unwrap(client.POST('/settings/program-key/reveal')),
  rotateProgramKey: () => unwrap(client.POST('/settings/program-key/rotate')),
  usageClients: (since?: string) => unwrap(client.GET('/usage/clients', { params: { query: { since } } })),
  testProvider: (name: string) => unwrap(client.POST('/providers/{name}/test', { params: { path: { name } } })),
  usage: (bucket: 'minute' | 'hour' | 'day', points?: number, clientName?: string, key?: string) =>
    unwrap(client.GET('/usage', { params: { query: { bucket, points, client: clientName, key } } })),
  keys: () => unwrap(client.GET('/keys')),
  createKey: (body: S['AppKeyCreate']) => unwrap(client.POST('/keys', { body })),
  updateKey: (id: string, body: S['AppKeyUpdate']) => unwrap(client.PATCH('/keys/{key_id}', { params: { path: { key_id: id } }, body })),
  revokeKey: (id: string) => unwrap(client.DELETE('/keys/{key_id}', { params: { path: { key_id: id } } })),
  budgets: () => unwrap(client.GET('/budgets')),
  saveBudgets: (body: S['Limits']) => unwrap(client.PATCH('/budgets', { body })),
  requestLog: () => unwrap(client.GET('/requests')),
  requestEntry: (id: string) => unwrap(client.GET('/requests/{request_id}', { params: { path: { request_id: id } } })),
  saveRequestLogSettings: (body: S['RequestLogSettingsUpdate']) => unwrap(client.PUT('/requests/settings', { body })),
  conversations: () => unwrap(client.GET('/conversations')),
  conversation: (id: string) => unwrap(client.GET('/conversations/{conversation_id}', cid(id))),
  createConversation: (body: S['ConversationCreate']) =>
    unwrap(client.POST('/conversations', { body })),
  updateConversation: (id: string, body: S['ConversationUpdate']) =>
    unwrap(client.PATCH('/conversations/{conversation_id}', { ...cid(id), body })),
  saveMessages: (id: string, messages: MessageIn[]) =>
    unwrap(client.PUT('/conversations/{conversation_id}/messages', { ...cid(id), body: { messages } })),
  deleteConversation: (id: string) => unwrap(client.DELETE('/conversations/{conversation_id}', cid(id))),
}

/** Fetches `path` (so the bearer token is sent) and saves the answer as `filename`. */
async function download(path: string, filename: string): Promise<void> {
  const res = await fetch(path, { headers: authHeaders() })
  if (res.status === 401) reportUnauthorized()
  if (!res.ok) throw toApiError(res.status, await res.json().catch(() => null))
  const blob = await res.blob()
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

/** Downloads a conversation as Markdown or JSON. */
export function downloadExport(id: string, format: 'md' | 'json', title: string): Promise<void> {
  const name = title.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'conversation'
  return download(`/conversations/${encodeURIComponent(id)}/export?format=${format}`, `${name}.${format}`)
}

/** Downloads every usage record (of one program or key, when given) as CSV or JSON. */
export function downloadUsage(format: 'csv' | 'json', filter: { client?: string | null; key?: string | null } = {}): Promise<void> {
  const q = new URLSearchParams({ format })
  if (filter.client) q.set('client', filter.client)
  if (filter.key) q.set('key', filter.key)
  return download(`/usage/export?${q}`, `usage.${format}`)
}

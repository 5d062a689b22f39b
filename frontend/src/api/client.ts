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
  usage: (bucket: 'minute' | 'hour' | 'day', points?: number, clientName?: string) =>
    unwrap(client.GET('/usage', { params: { query: { bucket, points, client: clientName } } })),
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

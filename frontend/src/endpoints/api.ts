// Endpoints and aliases over the typed client, as TanStack Query hooks. Every change
// refreshes the endpoint list and the model list (routing and listings follow it).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { client } from '../api/client'
import { ApiError, toApiError } from '../api/errors'
import type { components } from '../api/schema'

type S = components['schemas']
export type Endpoint = S['EndpointPublic']
export type EndpointCreate = S['EndpointCreate']
export type EndpointUpdate = S['EndpointUpdate']
export type EndpointHealth = S['EndpointHealth']
export type Alias = S['AliasPublic']
export type EndpointsView = S['EndpointsPublic']
export type EndpointCheck = S['ProviderCheck']

type Result<T> = { data?: T; error?: unknown; response: Response }

async function body<T>(call: Promise<Result<T>>): Promise<T> {
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

const named = (name: string) => ({ params: { path: { name } } })

export const endpointsApi = {
  list: () => body(client.GET('/endpoints')),
  create: (b: EndpointCreate) => body(client.POST('/endpoints', { body: b })),
  update: (name: string, b: EndpointUpdate) => body(client.PATCH('/endpoints/{name}', { ...named(name), body: b })),
  remove: (name: string) => body(client.DELETE('/endpoints/{name}', named(name))),
  test: (name: string) => body(client.POST('/endpoints/{name}/test', named(name))),
  setAliases: (aliases: Alias[]) => body(client.PUT('/endpoints/aliases', { body: { aliases } })),
  health: (refresh = false) => body(client.GET('/endpoints/health', { params: { query: { refresh } } })),
}

export const endpointKeys = {
  list: ['endpoints'] as const,
  health: ['endpoints', 'health'] as const,
}

export function useEndpoints() {
  return useQuery({ queryKey: endpointKeys.list, queryFn: endpointsApi.list })
}

/** The health line: polled, so Monitoring shows an endpoint going down without a reload. */
export function useEndpointHealth(intervalMs = 15_000) {
  return useQuery({
    queryKey: endpointKeys.health,
    queryFn: () => endpointsApi.health(false),
    refetchInterval: intervalMs,
  })
}

export function useEndpointChange<A>(run: (arg: A) => Promise<unknown>) {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: run,
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: endpointKeys.list })
      void qc.invalidateQueries({ queryKey: ['models'] })
      void qc.invalidateQueries({ queryKey: ['settings'] })
    },
  })
}

/** "a/b, c" -> ["a/b", "c"]: the aliases' target lists and model filters as typed. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean)
}

/** The up/down word of a health line. */
export function healthState(h: EndpointHealth | undefined, enabled = true): 'up' | 'down' | 'unknown' | 'off' {
  if (!enabled) return 'off'
  if (!h || h.up === null || h.up === undefined) return 'unknown'
  return h.up ? 'up' : 'down'
}

// Data hooks, one per resource, on TanStack Query: loading, error, caching and
// refetching live here instead of in every page. Mutations update or invalidate
// the cached resource they change.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from './client'
import type { AppKeyCreate, Limits, Profile, SettingsUpdate, SettingsView } from './rest'

export type Bucket = 'minute' | 'hour' | 'day'

export const keys = {
  models: ['models'] as const,
  settings: ['settings'] as const,
  profile: ['profile'] as const,
  conversations: ['conversations'] as const,
  conversation: (id: string) => ['conversations', id] as const,
  /** Every usage summary, whatever its filter: the monitoring feed updates them all. */
  usageAll: ['usage'] as const,
  usage: (bucket: Bucket, points: number, client: string | null, key: string | null = null) =>
    ['usage', { bucket, points, client, key }] as const,
  usageClients: (since?: string) => ['usage-clients', since ?? null] as const,
  inFlight: ['in-flight'] as const,
  keys: ['keys'] as const,
  budgets: ['budgets'] as const,
  requestLog: ['requests'] as const,
  requestEntry: (id: string) => ['requests', id] as const,
}

export function useModels() {
  return useQuery({ queryKey: keys.models, queryFn: api.models })
}

export function useSettings() {
  return useQuery({ queryKey: keys.settings, queryFn: api.settings })
}

export function useSaveSettings() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (update: SettingsUpdate) => api.saveSettings(update),
    onSuccess: (s: SettingsView) => {
      qc.setQueryData(keys.settings, s)
      // Defaults and providers change what GET /models answers.
      void qc.invalidateQueries({ queryKey: keys.models })
    },
  })
}

export function useProfile() {
  return useQuery({ queryKey: keys.profile, queryFn: api.profile })
}

export function useSaveProfile() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (p: Profile) => api.saveProfile(p),
    onSuccess: (p) => qc.setQueryData(keys.profile, p),
  })
}

export function useConversations() {
  return useQuery({ queryKey: keys.conversations, queryFn: api.conversations })
}

export function useUsage(bucket: Bucket, points: number, client: string | null, key: string | null = null) {
  return useQuery({
    queryKey: keys.usage(bucket, points, client, key),
    queryFn: () => api.usage(bucket, points, client ?? undefined, key ?? undefined),
    // Another filter's figures stay on screen until this one's arrive.
    placeholderData: (previous) => previous,
  })
}

/** The programs seen calling (since a time), polled while shown when `pollMs` is set. */
export function useUsageClients(since?: string, pollMs?: number) {
  return useQuery({
    queryKey: keys.usageClients(since),
    queryFn: () => api.usageClients(since),
    refetchInterval: pollMs ?? false,
    staleTime: pollMs ?? 30_000,
  })
}

/** Requests running now, as the monitoring feed last said (0 before it says). */
export function useInFlight(): number {
  return useQuery({ queryKey: keys.inFlight, queryFn: () => 0, staleTime: Infinity, enabled: false }).data ?? 0
}

/** App keys with their limits and what each spent against them. */
export function useKeys() {
  return useQuery({ queryKey: keys.keys, queryFn: api.keys })
}

export function useCreateKey() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (body: AppKeyCreate) => api.createKey(body),
    // The answer holds the key itself: it is shown once and never cached.
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.keys }),
  })
}

export function useRevokeKey() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (id: string) => api.revokeKey(id),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.keys }),
  })
}

/** The global budgets (every request together) and their use. */
export function useBudgets() {
  return useQuery({ queryKey: keys.budgets, queryFn: api.budgets })
}

export function useSaveBudgets() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (limits: Limits) => api.saveBudgets(limits),
    onSuccess: (g) => qc.setQueryData(keys.budgets, g),
  })
}

/** The request log (off by default): its settings and the requests it keeps. */
export function useRequestLog(enabled = true) {
  return useQuery({ queryKey: keys.requestLog, queryFn: api.requestLog, enabled })
}

export function useRequestEntry(id: string | null) {
  return useQuery({
    queryKey: keys.requestEntry(id ?? ''),
    queryFn: () => api.requestEntry(id as string),
    enabled: !!id,
    retry: false,
  })
}

export function useSaveRequestLogSettings() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (body: { enabled?: boolean; capacity?: number }) => api.saveRequestLogSettings(body),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.requestLog }),
  })
}

// The one TanStack Query client: what every page's data hooks share, so a figure fetched
// on one page is not fetched again on the next, and the live feeds can update it in place.
import { QueryClient } from '@tanstack/react-query'
import { ApiError } from './errors'

/** Retry once, and only what may pass on its own (the connector unreachable, a 5xx). */
export function shouldRetry(failures: number, err: unknown): boolean {
  if (failures >= 1) return false
  return !(err instanceof ApiError) || err.status === 0 || err.status >= 500
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: shouldRetry,
        // The live feeds keep usage current; other data changes when this UI changes it.
        staleTime: 30_000,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  })
}

export const queryClient = createQueryClient()

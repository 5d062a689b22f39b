import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { act, renderHook, waitFor } from '@testing-library/react'
import type { ReactNode } from 'react'
import { MemoryRouter } from 'react-router'
import { describe, expect, it } from 'vitest'
import { keys, useInFlight } from '../api/queries'
import type { ModelsResponse } from '../api/rest'
import { lastChatPath, useChatRoute } from '../chat/useChatRoute'
import { useModelChoice } from '../chat/useModelChoice'
import { handleMonitorMessage } from '../lib/monitorFeed'

const models: ModelsResponse = {
  default_provider: 'ollama',
  default_model: 'gpt-oss:20b',
  providers: [
    // What an endpoint is comes from its kind (GET /models), never from its name.
    { name: 'ollama', kind: 'ollama', available: true, models: [{ id: 'llama3:latest' }] },
    { name: 'openai', kind: 'openai-compatible', available: true, models: [{ id: 'gpt-4o-mini' }] },
  ],
} as unknown as ModelsResponse

function wrapper(qc: QueryClient, path = '/app/chat') {
  return ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[path]}>{children}</MemoryRouter>
    </QueryClientProvider>
  )
}

/** A client whose cache already holds the models, so no request goes out. */
function seeded(): QueryClient {
  const qc = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } })
  qc.setQueryData(keys.models, models)
  return qc
}

describe('useModelChoice', () => {
  it('starts on the server defaults, then keeps what the user picks', async () => {
    const qc = seeded()
    const { result } = renderHook(() => useModelChoice(), { wrapper: wrapper(qc) })
    expect([result.current.provider, result.current.model]).toEqual(['ollama', 'gpt-oss:20b'])
    expect(result.current.notPulled).toBe(true) // not among Ollama's models
    act(() => result.current.pick('ollama', 'llama3'))
    expect(result.current.notPulled).toBe(false) // llama3 is llama3:latest
    // New defaults from the server do not override a pick.
    act(() => qc.setQueryData(keys.models, { ...models, default_model: 'other' }))
    await waitFor(() => expect(result.current.models.data?.default_model).toBe('other'))
    expect(result.current.model).toBe('llama3')
  })
})

describe('useChatRoute', () => {
  it('reads the conversation from the URL and remembers the chat path', () => {
    const { result } = renderHook(() => useChatRoute(), { wrapper: wrapper(seeded(), '/app/chat/c%201') })
    expect(result.current).toMatchObject({ onChatRoute: true, routeId: 'c 1' })
    expect(lastChatPath()).toBe('/app/chat/c%201')
    act(() => result.current.open(null))
    expect(result.current.routeId).toBeNull()
  })
})

describe('useInFlight', () => {
  it('shows what the monitoring feed last said', async () => {
    const qc = seeded()
    const { result } = renderHook(() => useInFlight(), { wrapper: wrapper(qc) })
    expect(result.current).toBe(0)
    act(() => handleMonitorMessage(qc, { type: 'in_flight', in_flight: 3 }))
    await waitFor(() => expect(result.current).toBe(3))
  })
})

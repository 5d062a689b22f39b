import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PullModel } from '../chat/PullModel'

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

/** A fetch answering with an SSE body whose frames the test pushes one by one. */
function sseFetch() {
  let push!: (frame: string) => void
  let end!: () => void
  let fail!: (err: unknown) => void
  let signal: AbortSignal | undefined
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      push = (frame) => c.enqueue(new TextEncoder().encode(`data: ${frame}\n\n`))
      end = () => c.close()
      fail = (err) => c.error(err)
    },
  })
  const fetch = vi.fn(async (_url: string, init: RequestInit) => {
    signal = init.signal ?? undefined
    // Like a real fetch: aborting makes the body's reader reject with an AbortError.
    signal?.addEventListener('abort', () => fail(new DOMException('The user aborted a request.', 'AbortError')))
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } })
  })
  return { fetch, push: (o: unknown) => push(JSON.stringify(o)), done: () => (push('[DONE]'), end()), aborted: () => signal?.aborted }
}

describe('PullModel', () => {
  it('shows per-layer and overall bytes, then success and refreshes models', async () => {
    const f = sseFetch()
    vi.stubGlobal('fetch', f.fetch)
    const onDone = vi.fn()
    render(<PullModel name="llama3.2" onDone={onDone} onClose={() => undefined} />)
    await waitFor(() => expect(f.fetch).toHaveBeenCalledOnce())
    expect(JSON.parse(f.fetch.mock.calls[0][1].body as string)).toEqual({ name: 'llama3.2' })
    await act(async () => {
      f.push({ status: 'pulling manifest' })
      f.push({ status: 'pulling aaa', digest: 'sha256:aaa111', total: 2_000_000_000, completed: 1_500_000_000 })
      f.push({ status: 'pulling bbb', digest: 'sha256:bbb222', total: 1_000_000, completed: 1_000_000 })
    })
    await screen.findByText('1.5 GB / 2.0 GB')
    expect(screen.getByText('1.0 MB / 1.0 MB')).toBeTruthy()
    expect(screen.getByText(/1\.5 GB of 2\.0 GB \(75%\)/)).toBeTruthy()
    expect(screen.getAllByRole('progressbar')).toHaveLength(3)
    await act(async () => {
      f.push({ status: 'success' })
      f.done()
    })
    await screen.findByText('Done — the model is ready.')
    expect(onDone).toHaveBeenCalledOnce()
  })

  it('Cancel aborts the request', async () => {
    const f = sseFetch()
    vi.stubGlobal('fetch', f.fetch)
    const onDone = vi.fn()
    render(<PullModel name="llama3.2" onDone={onDone} onClose={() => undefined} />)
    await act(async () => {
      f.push({ status: 'pulling aaa', digest: 'sha256:aaa111', total: 100, completed: 10 })
    })
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel' }))
    await screen.findByText('Cancelled.')
    expect(f.aborted()).toBe(true)
    expect(onDone).not.toHaveBeenCalled()
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy()
  })

  it('shows an error frame from the server', async () => {
    const f = sseFetch()
    vi.stubGlobal('fetch', f.fetch)
    render(<PullModel name="nope" onDone={() => undefined} onClose={() => undefined} />)
    await act(async () => {
      f.push({ error: { message: 'pull model manifest: file does not exist', type: 'not_found_error', param: null, code: null } })
      f.done()
    })
    await screen.findByText('pull model manifest: file does not exist')
  })
})

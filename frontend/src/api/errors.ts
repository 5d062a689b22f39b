/** An OpenAI-style error from the connector, or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number
  readonly type: string
  readonly code: string | null
  readonly param: string | null

  constructor(status: number, message: string, type = 'error', code: string | null = null, param: string | null = null) {
    super(message)
    this.status = status
    this.type = type
    this.code = code
    this.param = param
  }

  get offline(): boolean {
    return this.status === 0
  }
}

interface ErrorBody {
  error?: { message?: string; type?: string; code?: string | null; param?: string | null }
  detail?: unknown
}

/** Reads an error body: the OpenAI error object, or FastAPI's 422 `detail` list. */
export function toApiError(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as ErrorBody
  if (b.error && typeof b.error === 'object') {
    return new ApiError(status, b.error.message ?? `HTTP ${status}`, b.error.type, b.error.code ?? null, b.error.param ?? null)
  }
  if (Array.isArray(b.detail)) {
    const first = b.detail[0] as { msg?: string; loc?: unknown[] } | undefined
    const field = first?.loc ? String(first.loc[first.loc.length - 1]) : null
    return new ApiError(status, first?.msg ?? 'Invalid input', 'invalid_request_error', null, field)
  }
  if (typeof b.detail === 'string') return new ApiError(status, b.detail)
  return new ApiError(status, `HTTP ${status}`)
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.offline ? 'Cannot reach the connector. Is it running?' : err.message
  if (err instanceof Error) return err.message
  return String(err)
}

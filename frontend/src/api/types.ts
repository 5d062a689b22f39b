// Shapes of the messages on the WebSockets, which OpenAPI does not describe.
// REST shapes come from the generated schema (see ./index.ts).

export interface ErrorObject {
  message: string
  type: string
  param: string | null
  code: string | null
}

export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  completion_tokens_details?: { reasoning_tokens?: number | null } | null
}

export interface Metrics {
  latency_ms?: number | null
  ttft_ms?: number | null
  tokens_per_s?: number | null
  cost_usd?: number | null
  reference_cost_usd?: number | null
}

export interface ChunkDelta {
  role?: string | null
  content?: string | null
  reasoning_content?: string | null
  tool_calls?: unknown
}

export interface ChatChunk {
  id?: string
  model?: string
  choices: { index: number; delta: ChunkDelta; finish_reason?: string | null }[]
  usage?: Usage | null
  metrics?: Metrics | null
  parsed?: unknown
}

export interface ChatResponse {
  id?: string
  model?: string
  provider?: string
  choices: {
    index: number
    finish_reason?: string | null
    message: { role: string; content: string | null; reasoning_content?: string | null; parsed?: unknown }
  }[]
  usage?: Usage | null
  metrics?: Metrics | null
}

export type ChatServerMessage =
  | { type: 'chunk'; id: string; chunk: ChatChunk }
  | { type: 'done'; id: string; response: ChatResponse }
  | { type: 'error'; id: string | null; status: number; error: ErrorObject }
  | { type: 'cancelled'; id: string }

export interface ChatRequestMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface ChatRequest {
  provider?: string
  model?: string
  messages: ChatRequestMessage[]
  stream?: boolean
  temperature?: number
  reasoning_effort?: 'low' | 'medium' | 'high'
  response_format?: { type: 'json_schema'; json_schema: { name: string; schema: unknown; strict?: boolean } }
}

export interface UsageRecord {
  id: number | string
  request_id: string
  created_at: string
  surface: string
  provider: string
  model: string
  status: 'ok' | 'error' | 'cancelled' | string
  error_type: string | null
  prompt_tokens: number
  completion_tokens: number
  reasoning_tokens: number
  total_tokens: number
  latency_ms: number | null
  ttft_ms: number | null
  cost_usd: number | null
  reference_cost_usd: number | null
  structured: boolean
}

export interface Totals {
  requests: number
  ok: number
  errors: number
  cancelled: number
  prompt_tokens: number
  completion_tokens: number
  reasoning_tokens: number
  total_tokens: number
  cost_usd: number
  saved_usd: number
}

export interface ModelUsage {
  provider: string
  model: string
  requests: number
  errors: number
  prompt_tokens: number
  completion_tokens: number
  reasoning_tokens: number
  total_tokens: number
  cost_usd: number
  saved_usd: number
  avg_latency_ms: number | null
  avg_ttft_ms: number | null
  tokens_per_s: number | null
}

export interface SeriesPoint {
  bucket_start: string
  requests: number
  total_tokens: number
  cost_usd: number
  saved_usd: number
}

export interface UsageReport {
  totals: Totals
  by_model: ModelUsage[]
  series: SeriesPoint[]
  recent: UsageRecord[]
  bucket: string
  since: string | null
  until: string | null
}

export type MonitorMessage =
  | { type: 'snapshot'; usage: UsageReport; in_flight: number }
  | { type: 'record'; record: UsageRecord; totals: Totals; in_flight: number }
  | { type: 'in_flight'; in_flight: number }

export interface PullProgress {
  status?: string
  digest?: string
  total?: number
  completed?: number
  error?: ErrorObject | string
}

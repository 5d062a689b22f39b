// Shapes of the messages on the WebSockets, which OpenAPI does not describe,
// built from the generated schema's parts where it has them.
import type { components } from './schema'

type S = components['schemas']

export interface ErrorObject {
  message: string
  type: string
  param: string | null
  code: string | null
}

export type Usage = S['Usage']
export type Metrics = S['Metrics']
export type ChatResponse = S['ChatCompletion']
export type ChatRequest = S['ChatRequest']
export type UsageRecord = S['UsageRecordPublic']
export type Totals = S['Totals']
export type ModelUsage = S['ModelUsage']
export type SeriesPoint = S['SeriesPoint']
export type UsageReport = S['UsageSummary']

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

export type ChatServerMessage =
  | { type: 'chunk'; id: string; chunk: ChatChunk }
  | { type: 'done'; id: string; response: ChatResponse }
  | { type: 'error'; id: string | null; status: number; error: ErrorObject }
  | { type: 'cancelled'; id: string }

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

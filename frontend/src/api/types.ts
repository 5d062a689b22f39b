// Shapes of the messages on the WebSockets and of the chat answers, generated from the
// server's pydantic models (connector/schemas/ws.py, added to the OpenAPI document's
// components by `python -m connector.openapi`), so `npm run gen:api:check` covers them.
import type { components } from './schema'

type S = components['schemas']

export type ErrorObject = S['ErrorBody']
export type Usage = S['Usage']
export type Metrics = S['Metrics']
export type ChatResponse = S['ChatCompletion']
export type ChatRequest = S['ChatRequest']
export type UsageRecord = S['UsageRecordPublic']
export type Totals = S['Totals']
export type ModelUsage = S['ModelUsage']
export type SeriesPoint = S['SeriesPoint']
export type UsageReport = S['UsageSummary']

// A delta carries only the fields it has (the server's compact serializer), though the
// routes' schema of Delta lists defaults for the others.
export type ChunkDelta = Partial<S['Delta']>
type ChunkChoice = Omit<S['ChunkChoice'], 'delta'> & { delta: ChunkDelta }
export type ChatChunk = Omit<S['ChatCompletionChunk'], 'choices'> & { choices: ChunkChoice[] }

/** What the UI sends on /ws/chat. */
export type ChatClientMessage = S['ChatClientMessage']
/** What /ws/chat answers: chunks, then done, or an error, or cancelled. */
export type ChatServerMessage =
  | Exclude<S['ChatServerMessage'], { type: 'chunk' }>
  | (Omit<S['ChatSocketChunk'], 'chunk'> & { chunk: ChatChunk })
/** What /ws/monitoring pushes: a snapshot, then records, in-flight counts and budget events. */
export type MonitorMessage = S['MonitorMessage']
export type BudgetEvent = S['MonitorBudget']

// The pull progress lines are Ollama's own (relayed as they come), not the connector's.
export interface PullProgress {
  status?: string
  digest?: string
  total?: number
  completed?: number
  error?: ErrorObject | string
}

// REST shapes. Replaced by aliases of the generated OpenAPI schema once it exists.
import type { Metrics, Usage, UsageReport } from './types'

export interface ModelInfo {
  id: string
  provider: string
  size?: number | null
  details?: Record<string, unknown> | null
}

export interface ProviderInfo {
  name: string
  available: boolean
  reason: string | null
  base_url: string
  models: ModelInfo[]
}

export interface ModelsResponse {
  default_provider: string
  default_model: string
  providers: ProviderInfo[]
}

export interface KeyStatus {
  set: boolean
  hint: string | null
  storage: string
}

export interface SettingsView {
  openai_api_key: KeyStatus
  openai_base_url: string
  ollama_base_url: string
  default_provider: string
  default_model: string
  reference_model: string
  keyring_available: boolean
  listen: { host: string; port: number }
}

export interface SettingsUpdate {
  openai_api_key?: string
  openai_base_url?: string
  ollama_base_url?: string
  default_provider?: string
  default_model?: string
  reference_model?: string
}

export interface Profile {
  display_name: string
  email: string
}

export interface ProviderTest {
  provider: string
  ok: boolean
  detail: string
  latency_ms: number | null
}

export interface Conversation {
  id: string
  title: string
  provider: string | null
  model: string | null
  created_at: string
  updated_at: string
  message_count: number
}

export interface StoredMessage {
  id?: string | number
  role: string
  content: string
  reasoning_content?: string | null
  parsed?: unknown
  metrics?: (Metrics & Partial<Usage>) | Record<string, unknown> | null
  created_at?: string
}

export interface ConversationDetail extends Conversation {
  messages: StoredMessage[]
}

export type { UsageReport }

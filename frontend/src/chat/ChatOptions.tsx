// Per-chat request options: system prompt, temperature, reasoning effort, Ollama's
// context length, and structured output with its schema.
import { lazy, Suspense } from 'react'
import type { ChatRequest } from '../api/types'
import { EXAMPLE_SCHEMA } from './schemaExample'

// The schema editor carries ajv (~40 kB gzipped): loaded when structured output is turned on.
const SchemaEditor = lazy(() => import('./SchemaEditor').then((m) => ({ default: m.SchemaEditor })))

export interface Options {
  system: string
  temperatureOn: boolean
  temperature: number
  effort: '' | 'low' | 'medium' | 'high'
  /** Ollama's num_ctx; 0 keeps the model's default (often only a few thousand tokens). */
  contextLength: number
  structured: boolean
  schema: string
}

export const DEFAULT_OPTIONS: Options = {
  system: '',
  temperatureOn: false,
  temperature: 0.7,
  effort: '',
  contextLength: 0,
  structured: false,
  schema: EXAMPLE_SCHEMA,
}

export const CONTEXT_LENGTHS = [4096, 8192, 16384, 32768, 65536, 131072]

/** The request fields these options set for an endpoint of `kind` (Ollama-only ones only
 * for an endpoint of kind `ollama`, whatever it is named). */
export function requestFields(options: Options, kind: string): Partial<ChatRequest> {
  const fields: Partial<ChatRequest> = {}
  if (options.temperatureOn) fields.temperature = options.temperature
  if (options.effort) fields.reasoning_effort = options.effort
  if (kind === 'ollama' && options.contextLength > 0) fields.options = { num_ctx: options.contextLength }
  return fields
}

export function ChatOptions({
  value,
  onChange,
  kind,
}: {
  value: Options
  onChange: (o: Options) => void
  /** The chosen endpoint's kind (GET /models). */
  kind: string
}) {
  const set = <K extends keyof Options>(k: K, v: Options[K]) => onChange({ ...value, [k]: v })
  return (
    <div className="options" aria-label="Chat options">
      <div className="field">
        <label htmlFor="system-prompt">System prompt</label>
        <textarea
          id="system-prompt"
          rows={2}
          placeholder="You are a helpful assistant."
          value={value.system}
          onChange={(e) => set('system', e.target.value)}
        />
      </div>
      <div className="options-row">
        <div className="field">
          <label htmlFor="temperature">
            <input
              type="checkbox"
              checked={value.temperatureOn}
              onChange={(e) => set('temperatureOn', e.target.checked)}
              aria-label="Set temperature"
            />{' '}
            Temperature {value.temperatureOn ? <strong>{value.temperature.toFixed(1)}</strong> : <span className="muted">(model default)</span>}
          </label>
          <input
            id="temperature"
            type="range"
            min={0}
            max={2}
            step={0.1}
            disabled={!value.temperatureOn}
            value={value.temperature}
            onChange={(e) => set('temperature', Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="effort">Reasoning effort</label>
          <select id="effort" value={value.effort} onChange={(e) => set('effort', e.target.value as Options['effort'])}>
            <option value="">Model default</option>
            <option value="low">Low</option>
            <option value="medium">Medium</option>
            <option value="high">High</option>
          </select>
        </div>
        {kind === 'ollama' ? (
          <div className="field">
            <label htmlFor="context-length">Context length</label>
            <select
              id="context-length"
              value={value.contextLength}
              onChange={(e) => set('contextLength', Number(e.target.value))}
              title="Ollama's num_ctx: how many tokens of the conversation the model sees. Larger needs more memory."
            >
              <option value={0}>Model default</option>
              {CONTEXT_LENGTHS.map((n) => (
                <option key={n} value={n}>
                  {n / 1024}K tokens
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div className="field">
          <span className="label">Output</span>
          <label className="switch">
            <input type="checkbox" checked={value.structured} onChange={(e) => set('structured', e.target.checked)} />
            Structured (JSON schema)
          </label>
        </div>
      </div>
      {value.structured ? (
        <Suspense fallback={<div className="muted small">Loading the schema editor…</div>}>
          <SchemaEditor value={value.schema} onChange={(t) => set('schema', t)} />
        </Suspense>
      ) : null}
    </div>
  )
}

// Per-chat request options: system prompt, temperature, reasoning effort and
// structured output with its schema.
import { lazy, Suspense } from 'react'

// The schema editor carries ajv (~40 kB gzipped): loaded when structured output is turned on.
const SchemaEditor = lazy(() => import('./SchemaEditor').then((m) => ({ default: m.SchemaEditor })))

export interface Options {
  system: string
  temperatureOn: boolean
  temperature: number
  effort: '' | 'low' | 'medium' | 'high'
  structured: boolean
  schema: string
}

export function ChatOptions({ value, onChange }: { value: Options; onChange: (o: Options) => void }) {
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

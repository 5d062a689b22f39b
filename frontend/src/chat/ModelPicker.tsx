// Provider + model choice fed by GET /models; an unavailable provider is still
// listed, with its reason and what to do about it.
import type { ModelsResponse, ProviderInfo, ProviderName } from '../api/rest'
import { Link } from 'react-router'

interface Props {
  models: ModelsResponse | null
  provider: ProviderName
  model: string
  onChange: (provider: ProviderName, model: string) => void
  disabled?: boolean
}

const LABELS: Record<string, string> = { ollama: 'Ollama', openai: 'OpenAI' }
export const providerLabel = (name: string) => LABELS[name] ?? name

export function ModelPicker({ models, provider, model, onChange, disabled }: Props) {
  const providers = models?.providers ?? []
  const current = providers.find((p) => p.name === provider)
  const listId = `models-${provider}`
  return (
    <div className="model-picker">
      <label className="sr-only" htmlFor="provider-select">
        Provider
      </label>
      <select
        id="provider-select"
        value={provider}
        disabled={disabled}
        onChange={(e) => {
          const next = providers.find((p) => p.name === e.target.value)
          onChange(
            e.target.value as ProviderName,
            models && next?.name === models.default_provider ? models.default_model : (next?.models?.[0]?.id ?? ''),
          )
        }}
      >
        {providers.length === 0 ? <option value={provider}>{providerLabel(provider)}</option> : null}
        {providers.map((p) => (
          <option key={p.name} value={p.name}>
            {providerLabel(p.name)}
            {p.available ? '' : ' (unavailable)'}
          </option>
        ))}
      </select>
      <label className="sr-only" htmlFor="model-input">
        Model
      </label>
      <input
        id="model-input"
        list={listId}
        value={model}
        disabled={disabled}
        placeholder={current?.kind === 'ollama' ? 'e.g. gpt-oss:20b' : 'e.g. gpt-4o-mini'}
        onChange={(e) => onChange(provider, e.target.value.trim())}
        spellCheck={false}
        autoComplete="off"
      />
      <datalist id={listId}>
        {current?.models?.map((m) => (
          <option key={m.id} value={m.id} />
        ))}
      </datalist>
    </div>
  )
}

/** An unavailable provider: the server's reason (it says what to do) and a way to Settings. */
export function ProviderProblem({ p }: { p: ProviderInfo }) {
  const fallback =
    p.kind === 'ollama'
      ? `Start Ollama (ollama serve) or set its URL in Settings (now ${p.base_url}).`
      : `Check its URL and API key in Settings → Endpoints (now ${p.base_url}).`
  return (
    <div className="notice notice-warn provider-problem" role="status">
      <strong>{providerLabel(p.name)} is unavailable</strong>
      <div>{p.reason || fallback}</div>
      <div>
        <Link to="/app/settings">Open Settings →</Link>
      </div>
    </div>
  )
}

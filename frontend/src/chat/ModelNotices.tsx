// What stands between the chosen model and a reply: GET /models failing, the provider
// unavailable, or an Ollama model not pulled yet (with the pull itself).
import { errorMessage } from '../api/errors'
import { Notice } from '../lib/ui'
import { ProviderProblem } from './ModelPicker'
import { PullModel } from './PullModel'
import type { ModelChoice } from './useModelChoice'

interface Props {
  choice: ModelChoice
  pullName: string | null
  onPull: (name: string | null) => void
}

export function ModelNotices({ choice, pullName, onPull }: Props) {
  const { models, model, current, notPulled } = choice
  return (
    <>
      {models.error ? (
        <Notice kind="error" title="Could not list models.">
          {errorMessage(models.error)}{' '}
          <button type="button" className="btn btn-small" onClick={() => void models.refetch()}>
            Retry
          </button>
        </Notice>
      ) : null}
      {current && !current.available ? <ProviderProblem p={current} /> : null}
      {notPulled && pullName === null ? (
        <Notice kind="info">
          <span>
            <strong>{model}</strong> is not pulled on this Ollama yet.{' '}
          </span>
          <button type="button" className="btn btn-small" onClick={() => onPull(model)}>
            Pull {model}
          </button>
        </Notice>
      ) : null}
      {pullName ? <PullModel key={pullName} name={pullName} onDone={() => void models.refetch()} onClose={() => onPull(null)} /> : null}
    </>
  )
}

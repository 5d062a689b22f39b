// Which provider and model the chat uses: the server's defaults from GET /models until
// the user (or an opened conversation) picks one.
import { useEffect, useRef, useState } from 'react'
import { useModels } from '../api/queries'
import type { ProviderName } from '../api/rest'

export function useModelChoice() {
  const models = useModels()
  const [provider, setProvider] = useState<ProviderName>('ollama')
  const [model, setModel] = useState('')
  const picked = useRef(false)
  const data = models.data
  useEffect(() => {
    if (!data || picked.current) return
    setProvider(data.default_provider)
    setModel(data.default_model)
  }, [data])
  const pick = (p: ProviderName, m: string) => {
    picked.current = true
    setProvider(p)
    setModel(m)
  }
  const current = data?.providers.find((p) => p.name === provider)
  // Pulling is for an endpoint of kind `ollama`, whatever it is named.
  const notPulled =
    current?.kind === 'ollama' &&
    !!current.available &&
    !!model &&
    !(current.models ?? []).some((m) => m.id === model || m.id === `${model}:latest`)
  return {
    models,
    provider,
    model,
    pick,
    /** The provider's entry in GET /models (its availability and models). */
    current,
    /** The chosen Ollama model is not on this Ollama yet. */
    notPulled,
  }
}

export type ModelChoice = ReturnType<typeof useModelChoice>

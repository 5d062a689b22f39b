// The open conversation: loaded into the transcript when the URL names it, created on
// the first message of a new chat, and saved whenever a reply finishes.
import { useEffect, useRef, useState, type Dispatch } from 'react'
import { useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import { errorMessage } from '../api/errors'
import { keys } from '../api/queries'
import type { ConversationDetail, ProviderName } from '../api/rest'
import { fromStored, toStored } from './persist'
import type { ChatAction, ChatMessage } from './stream'

interface Loaded {
  system: string
  provider?: ProviderName | null
  model?: string | null
}

export function useConversation(opts: {
  onChatRoute: boolean
  routeId: string | null
  messages: ChatMessage[]
  streaming: boolean
  system: string
  dispatch: Dispatch<ChatAction>
  onLoaded: (c: Loaded) => void
  onSaveError: (message: string) => void
}) {
  const { onChatRoute, routeId, messages, streaming, system, dispatch } = opts
  const qc = useQueryClient()
  const [activeId, setActiveId] = useState<string | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const loadedId = useRef<string | null>(null)
  const callbacks = useRef(opts)
  callbacks.current = opts

  // Open the conversation named in the URL (unless it is the one already shown).
  useEffect(() => {
    if (!onChatRoute || routeId === loadedId.current) return
    loadedId.current = routeId
    setActiveId(routeId)
    setLoadError(null)
    if (routeId === null) {
      dispatch({ type: 'load', messages: [] })
      return
    }
    let stale = false
    qc.fetchQuery<ConversationDetail>({ queryKey: keys.conversation(routeId), queryFn: () => api.conversation(routeId), staleTime: 0 })
      .then((c) => {
        if (stale) return
        const loaded = fromStored(c.messages ?? [])
        dispatch({ type: 'load', messages: loaded.messages })
        callbacks.current.onLoaded({ system: loaded.system, provider: c.provider, model: c.model })
      })
      .catch((err) => !stale && setLoadError(errorMessage(err)))
    return () => {
      stale = true
    }
  }, [routeId, onChatRoute, dispatch, qc])

  // Save the transcript whenever a reply finishes.
  const wasStreaming = useRef(false)
  useEffect(() => {
    if (wasStreaming.current && !streaming && activeId) {
      api
        .saveMessages(activeId, toStored(messages, system))
        .then(() => qc.invalidateQueries({ queryKey: keys.conversations }))
        .catch((err) => callbacks.current.onSaveError(`Could not save: ${errorMessage(err)}`))
    }
    wasStreaming.current = streaming
  }, [streaming, activeId, messages, system, qc])

  /** Creates the conversation for a new chat; null when it could not be saved. */
  const create = async (title: string, provider?: ProviderName, model?: string): Promise<string | null> => {
    try {
      const c = await api.createConversation({ title, ...(provider ? { provider } : {}), ...(model ? { model } : {}) })
      loadedId.current = c.id
      setActiveId(c.id)
      void qc.invalidateQueries({ queryKey: keys.conversations })
      return c.id
    } catch (err) {
      callbacks.current.onSaveError(`Not saved: ${errorMessage(err)}`)
      return null
    }
  }

  return { activeId, loadError, create }
}

// The chat page: conversations sidebar, model picker, options, transcript and
// composer. Replies stream over WS /ws/chat; finished turns are saved to the
// connector with PUT /conversations/{id}/messages.
import { useCallback, useEffect, useReducer, useRef, useState } from 'react'
import { api, downloadExport } from '../api/client'
import { errorMessage } from '../api/errors'
import type { Conversation, ModelsResponse, ProviderName } from '../api/rest'
import type { ChatRequest, ChatServerMessage } from '../api/types'
import { uid } from '../lib/format'
import { navigate, usePath } from '../lib/router'
import { getSocket } from '../lib/sockets'
import { Notice, OfflineBanner } from '../lib/ui'
import { ChatOptions, DEFAULT_OPTIONS, requestFields, type Options } from './ChatOptions'
import { Composer } from './Composer'
import { ConversationList } from './ConversationList'
import { MessageView } from './MessageView'
import { fromStored, toStored } from './persist'
import { ModelPicker, ProviderProblem } from './ModelPicker'
import { PullModel } from './PullModel'
import { Welcome } from './Welcome'
import { chatReducer, initialChatState, isStreaming, type ChatMessage } from './stream'

/** The chat path last shown, so the nav link returns to the open conversation. */
export let lastChatPath = '/app/chat'


export function ChatPage({ visible }: { visible: boolean }) {
  const path = usePath()
  const socket = getSocket('/ws/chat')
  const [state, dispatch] = useReducer(chatReducer, initialChatState)
  const [models, setModels] = useState<ModelsResponse | null>(null)
  const [modelsError, setModelsError] = useState<string | null>(null)
  const [provider, setProvider] = useState<ProviderName>('ollama')
  const [model, setModel] = useState('')
  const [conversations, setConversations] = useState<Conversation[] | null>(null)
  const [convError, setConvError] = useState<string | null>(null)
  const [activeId, setActiveId] = useState<string | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [text, setText] = useState('')
  const [options, setOptions] = useState<Options>(DEFAULT_OPTIONS)
  const [showOptions, setShowOptions] = useState(false)
  const [pullName, setPullName] = useState<string | null>(null)
  const [formError, setFormError] = useState<string | null>(null)
  const loadedId = useRef<string | null>(null)
  const pickedByUser = useRef(false)
  const composer = useRef<HTMLTextAreaElement>(null)
  const streaming = isStreaming(state)

  const routeId = path.startsWith('/app/chat/') ? decodeURIComponent(path.slice('/app/chat/'.length)) || null : null
  const onChatRoute = path === '/app/chat' || path.startsWith('/app/chat/')
  if (onChatRoute) lastChatPath = path

  const refreshModels = useCallback(async () => {
    try {
      const m = await api.models()
      setModels(m)
      setModelsError(null)
      if (!pickedByUser.current) {
        setProvider(m.default_provider)
        setModel(m.default_model)
      }
    } catch (err) {
      setModelsError(errorMessage(err))
    }
  }, [])

  const refreshConversations = useCallback(async () => {
    try {
      setConversations(await api.conversations())
      setConvError(null)
    } catch (err) {
      setConvError(errorMessage(err))
    }
  }, [])

  useEffect(() => {
    void refreshModels()
    void refreshConversations()
  }, [refreshModels, refreshConversations])

  // Server messages for our requests; and a dropped socket ends the streams it carried.
  const streamingIds = useRef<Set<string>>(new Set())
  useEffect(() => {
    for (const m of state.messages) if (m.status === 'streaming' && m.requestId) streamingIds.current.add(m.requestId)
  }, [state.messages])
  useEffect(() => {
    const offMsg = socket.onMessage((data) => {
      const msg = data as ChatServerMessage
      if (msg && typeof msg === 'object' && 'type' in msg) dispatch({ type: 'server', message: msg })
    })
    const offStatus = socket.onStatus((s) => {
      if (s.state !== 'offline') return
      for (const id of streamingIds.current) dispatch({ type: 'lost', requestId: id })
      streamingIds.current.clear()
    })
    return () => {
      offMsg()
      offStatus()
    }
  }, [socket])

  // Open the conversation named in the URL (unless it is the one already shown).
  useEffect(() => {
    if (!onChatRoute) return
    if (routeId === loadedId.current) return
    if (routeId === null) {
      loadedId.current = null
      setActiveId(null)
      dispatch({ type: 'load', messages: [] })
      return
    }
    loadedId.current = routeId
    setActiveId(routeId)
    setLoadError(null)
    let stale = false
    api
      .conversation(routeId)
      .then((c) => {
        if (stale) return
        const loaded = fromStored(c.messages ?? [])
        dispatch({ type: 'load', messages: loaded.messages })
        setOptions((o) => ({ ...o, system: loaded.system }))
        if (c.provider) setProvider(c.provider)
        if (c.model) setModel(c.model)
        if (c.provider || c.model) pickedByUser.current = true
      })
      .catch((err) => {
        if (!stale) setLoadError(errorMessage(err))
      })
    return () => {
      stale = true
    }
  }, [routeId, onChatRoute])

  // Save the transcript whenever a reply finishes.
  const wasStreaming = useRef(false)
  useEffect(() => {
    if (wasStreaming.current && !streaming && activeId) {
      api
        .saveMessages(activeId, toStored(state.messages, options.system))
        .then(refreshConversations)
        .catch((err) => setConvError(`Could not save: ${errorMessage(err)}`))
    }
    wasStreaming.current = streaming
  }, [streaming, activeId, state.messages, options.system, refreshConversations])

  const run = async (base: ChatMessage[], userText?: string) => {
    setFormError(null)
    let schema: Record<string, unknown> | null = null
    if (options.structured) {
      const { checkSchema } = await import('./schema')
      const check = checkSchema(options.schema)
      if (!check.ok) {
        setShowOptions(true)
        setFormError('Fix the JSON schema before sending.')
        return
      }
      schema = check.schema
    }
    let history = base
    if (userText !== undefined) {
      const user: ChatMessage = { key: uid('m'), role: 'user', content: userText, reasoning: '', status: 'done' }
      dispatch({ type: 'user', key: user.key, content: userText })
      history = [...base, user]
    }
    const requestId = uid('r')
    dispatch({ type: 'start', key: uid('m'), requestId, model })
    let id = activeId
    if (!id) {
      try {
        const title = (userText ?? history.find((m) => m.role === 'user')?.content ?? 'New chat').replace(/\s+/g, ' ').slice(0, 60)
        const c = await api.createConversation({ title, ...(models ? { provider } : {}), ...(model ? { model } : {}) })
        id = c.id
        loadedId.current = id
        setActiveId(id)
        navigate(`/app/chat/${encodeURIComponent(id)}`, true)
        void refreshConversations()
      } catch (err) {
        setConvError(`Not saved: ${errorMessage(err)}`)
      }
    } else {
      if (models && model) api.updateConversation(id, { provider, model }).catch(() => undefined)
    }
    // Before GET /models answers (or with no model typed) the server's defaults apply.
    const request: ChatRequest = {
      ...(models ? { provider } : {}),
      ...(models && model ? { model } : {}),
      stream: true,
      messages: [
        ...(options.system.trim() ? [{ role: 'system' as const, content: options.system }] : []),
        ...history.filter((m) => m.content && m.status !== 'error').map((m) => ({ role: m.role, content: m.content })),
      ],
    }
    Object.assign(request, requestFields(options, provider))
    if (schema) request.response_format = { type: 'json_schema', json_schema: { name: 'reply', schema, strict: true } }
    if (!socket.send({ type: 'chat', id: requestId, request })) {
      dispatch({
        type: 'server',
        message: {
          type: 'error',
          id: requestId,
          status: 0,
          error: { message: 'Not connected to the connector; retrying the connection.', type: 'network_error', param: null, code: null },
        },
      })
    }
  }

  const send = () => {
    const t = text.trim()
    if (!t || streaming) return
    setText('')
    void run(state.messages, t)
  }

  // One cancel per request: Stop clicked twice or Esc held down must not repeat it.
  const cancelled = useRef<Set<string>>(new Set())
  const stop = useCallback(() => {
    for (const m of state.messages) {
      if (m.status !== 'streaming' || !m.requestId || cancelled.current.has(m.requestId)) continue
      if (socket.send({ type: 'cancel', id: m.requestId })) cancelled.current.add(m.requestId)
    }
  }, [state.messages, socket])

  useEffect(() => {
    if (!visible || !streaming) return
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') stop()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [visible, streaming, stop])

  const lastIndex = state.messages.length - 1
  const last = state.messages[lastIndex]
  const lastUserIndex = state.messages.map((m) => m.role).lastIndexOf('user')

  const regenerate = () => {
    if (!last || last.role !== 'assistant' || streaming) return
    const base = state.messages.slice(0, lastIndex)
    dispatch({ type: 'truncate', from: lastIndex })
    void run(base)
  }

  const editLast = () => {
    if (lastUserIndex < 0 || streaming) return
    setText(state.messages[lastUserIndex].content)
    dispatch({ type: 'truncate', from: lastUserIndex })
    composer.current?.focus()
  }

  const newChat = () => {
    if (streaming) stop()
    navigate('/app/chat')
    setText('')
    composer.current?.focus()
  }

  const ollama = models?.providers.find((p) => p.name === 'ollama')
  const currentProvider = models?.providers.find((p) => p.name === provider)
  const notPulled =
    provider === 'ollama' &&
    !!ollama?.available &&
    !!model &&
    !(ollama.models ?? []).some((m) => m.id === model || m.id === `${model}:latest`)

  // Scroll to the newest text while streaming, unless the reader scrolled up.
  const scroller = useRef<HTMLDivElement>(null)
  const pinned = useRef(true)
  useEffect(() => {
    const el = scroller.current
    if (el && pinned.current) el.scrollTop = el.scrollHeight
  }, [state.messages])

  return (
    <div className="chat-layout" hidden={!visible}>
      <ConversationList
        items={conversations}
        error={convError}
        activeId={activeId}
        onNew={newChat}
        onOpen={(id) => {
          // The transcript on screen belongs to one conversation: finish (stop) before switching.
          if (streaming && id !== activeId) stop()
          navigate(`/app/chat/${encodeURIComponent(id)}`)
        }}
        onRename={(id, title) =>
          api
            .updateConversation(id, { title })
            .then(refreshConversations)
            .catch((err) => setConvError(errorMessage(err)))
        }
        onDelete={(id) =>
          api
            .deleteConversation(id)
            .then(() => {
              if (id === activeId) navigate('/app/chat')
              return refreshConversations()
            })
            .catch((err) => setConvError(errorMessage(err)))
        }
        onExport={(c, format) => downloadExport(c.id, format, c.title).catch((err) => setConvError(errorMessage(err)))}
      />
      <section className="chat-main" aria-label="Chat">
        <OfflineBanner socket={socket} what="chat" />
        <div className="chat-toolbar">
          <ModelPicker
            models={models}
            provider={provider}
            model={model}
            disabled={streaming}
            onChange={(p, m) => {
              pickedByUser.current = true
              setProvider(p)
              setModel(m)
              setPullName(null)
            }}
          />
          <button
            type="button"
            className={`btn btn-ghost${showOptions ? ' active' : ''}`}
            aria-expanded={showOptions}
            onClick={() => setShowOptions(!showOptions)}
          >
            ⚙ Options{options.structured ? ' · JSON' : ''}
          </button>
        </div>
        {showOptions ? <ChatOptions value={options} onChange={setOptions} provider={provider} /> : null}
        {modelsError ? (
          <Notice kind="error" title="Could not list models.">
            {modelsError}{' '}
            <button type="button" className="btn btn-small" onClick={() => void refreshModels()}>
              Retry
            </button>
          </Notice>
        ) : null}
        {currentProvider && !currentProvider.available ? <ProviderProblem p={currentProvider} /> : null}
        {notPulled && pullName === null ? (
          <Notice kind="info">
            <span>
              <strong>{model}</strong> is not pulled on this Ollama yet.{' '}
            </span>
            <button type="button" className="btn btn-small" onClick={() => setPullName(model)}>
              Pull {model}
            </button>
          </Notice>
        ) : null}
        {pullName ? (
          <PullModel
            key={pullName}
            name={pullName}
            onDone={() => void refreshModels()}
            onClose={() => setPullName(null)}
          />
        ) : null}
        <div
          className="transcript"
          ref={scroller}
          onScroll={(e) => {
            const el = e.currentTarget
            pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40
          }}
        >
          {loadError ? <Notice kind="error" title="Could not open this conversation.">{loadError}</Notice> : null}
          {state.messages.length === 0 && !loadError ? (
            <Welcome
              model={model}
              onPick={(q) => {
                setText(q)
                composer.current?.focus()
              }}
            />
          ) : null}
          {state.messages.map((m, i) => (
            <MessageView
              key={m.key}
              m={m}
              canPull={provider === 'ollama'}
              onPull={() => setPullName(m.model ?? model)}
              actions={
                !streaming && i === lastIndex && m.role === 'assistant' ? (
                  <button type="button" className="btn btn-ghost btn-small" onClick={regenerate}>
                    ↻ Regenerate
                  </button>
                ) : !streaming && i === lastUserIndex && (i === lastIndex || i === lastIndex - 1) ? (
                  <button type="button" className="btn btn-ghost btn-small" onClick={editLast}>
                    ✎ Edit
                  </button>
                ) : null
              }
            />
          ))}
        </div>
        <Composer
          ref={composer}
          text={text}
          onText={setText}
          streaming={streaming}
          error={formError}
          onSend={send}
          onStop={stop}
        />
      </section>
    </div>
  )
}

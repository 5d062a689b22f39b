// The chat page: conversations sidebar, model picker, options, transcript and
// composer. Each concern lives in its own hook or component: the route
// (useChatRoute), the model choice (useModelChoice), the socket (useChatSocket), the
// open conversation (useConversation), the request (request.ts), the transcript.
import { useEffect, useReducer, useRef, useState } from 'react'
import { api } from '../api/client'
import { uid } from '../lib/format'
import { OfflineBanner } from '../lib/ui'
import { ChatOptions, DEFAULT_OPTIONS, type Options } from './ChatOptions'
import { ChatSidebar } from './ChatSidebar'
import { Composer } from './Composer'
import { ModelNotices } from './ModelNotices'
import { ModelPicker } from './ModelPicker'
import { buildChatRequest, titleFrom } from './request'
import { chatReducer, initialChatState, isStreaming, type ChatMessage } from './stream'
import { Transcript } from './Transcript'
import { useChatRoute } from './useChatRoute'
import { useChatSocket } from './useChatSocket'
import { useConversation } from './useConversation'
import { useModelChoice } from './useModelChoice'

/** Esc stops the reply while the chat is on screen. */
function useEscape(active: boolean, onEscape: () => void) {
  const handler = useRef(onEscape)
  handler.current = onEscape
  useEffect(() => {
    if (!active) return
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') handler.current()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [active])
}

export function ChatPage({ visible }: { visible: boolean }) {
  const route = useChatRoute()
  const [state, dispatch] = useReducer(chatReducer, initialChatState)
  const streaming = isStreaming(state)
  const choice = useModelChoice()
  const [text, setText] = useState('')
  const [options, setOptions] = useState<Options>(DEFAULT_OPTIONS)
  const [showOptions, setShowOptions] = useState(false)
  const [pullName, setPullName] = useState<string | null>(null)
  const [formError, setFormError] = useState<string | null>(null)
  const [saveError, setSaveError] = useState<string | null>(null)
  const composer = useRef<HTMLTextAreaElement>(null)
  const chat = useChatSocket(state.messages, dispatch)
  const conversation = useConversation({
    onChatRoute: route.onChatRoute,
    routeId: route.routeId,
    messages: state.messages,
    streaming,
    system: options.system,
    dispatch,
    onLoaded: (c) => {
      setOptions((o) => ({ ...o, system: c.system }))
      if (c.provider || c.model) choice.pick(c.provider ?? choice.provider, c.model ?? choice.model)
    },
    onSaveError: setSaveError,
  })
  const { activeId } = conversation
  const known = !!choice.models.data

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
    dispatch({ type: 'start', key: uid('m'), requestId, model: choice.model })
    if (!activeId) {
      const title = titleFrom(userText ?? history.find((m) => m.role === 'user')?.content)
      const id = await conversation.create(title, known ? choice.provider : undefined, choice.model || undefined)
      if (id) route.open(id, true)
    } else if (known && choice.model) {
      api.updateConversation(activeId, { provider: choice.provider, model: choice.model }).catch(() => undefined)
    }
    chat.send(requestId, buildChatRequest(history, options, { known, provider: choice.provider, model: choice.model, kind: choice.current?.kind }, schema))
  }

  const send = () => {
    const t = text.trim()
    if (!t || streaming) return
    setText('')
    void run(state.messages, t)
  }

  useEscape(visible && streaming, chat.stop)

  const lastIndex = state.messages.length - 1
  const regenerate = () => {
    const last = state.messages[lastIndex]
    if (!last || last.role !== 'assistant' || streaming) return
    const base = state.messages.slice(0, lastIndex)
    dispatch({ type: 'truncate', from: lastIndex })
    void run(base)
  }

  const editLast = () => {
    const lastUserIndex = state.messages.map((m) => m.role).lastIndexOf('user')
    if (lastUserIndex < 0 || streaming) return
    setText(state.messages[lastUserIndex].content)
    dispatch({ type: 'truncate', from: lastUserIndex })
    composer.current?.focus()
  }

  const newChat = () => {
    if (streaming) chat.stop()
    route.open(null)
    setText('')
    composer.current?.focus()
  }

  return (
    <div className="chat-layout" hidden={!visible}>
      <ChatSidebar
        activeId={activeId}
        saveError={saveError}
        onError={setSaveError}
        onNew={newChat}
        onOpen={(id) => {
          // The transcript on screen belongs to one conversation: finish (stop) before switching.
          if (streaming && id !== activeId) chat.stop()
          route.open(id)
        }}
        onDeleted={(id) => id === activeId && route.open(null)}
      />
      <section className="chat-main" aria-label="Chat">
        <OfflineBanner socket={chat.socket} what="chat" />
        <div className="chat-toolbar">
          <ModelPicker
            models={choice.models.data ?? null}
            provider={choice.provider}
            model={choice.model}
            disabled={streaming}
            onChange={(p, m) => {
              choice.pick(p, m)
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
        {showOptions ? <ChatOptions value={options} onChange={setOptions} kind={choice.current?.kind ?? ''} /> : null}
        <ModelNotices choice={choice} pullName={pullName} onPull={setPullName} />
        <Transcript
          messages={state.messages}
          streaming={streaming}
          loadError={conversation.loadError}
          model={choice.model}
          canPull={choice.current?.kind === 'ollama'}
          onPull={setPullName}
          onPick={(q) => {
            setText(q)
            composer.current?.focus()
          }}
          onRegenerate={regenerate}
          onEdit={editLast}
        />
        <Composer ref={composer} text={text} onText={setText} streaming={streaming} error={formError} onSend={send} onStop={chat.stop} />
      </section>
    </div>
  )
}

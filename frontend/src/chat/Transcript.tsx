// The conversation on screen: the turns, Regenerate on the last reply, Edit on the last
// question, the welcome card when empty; it follows new text unless scrolled up.
import { useEffect, useRef } from 'react'
import { Notice } from '../lib/ui'
import { MessageView } from './MessageView'
import type { ChatMessage } from './stream'
import { Welcome } from './Welcome'

interface Props {
  messages: ChatMessage[]
  streaming: boolean
  loadError: string | null
  model: string
  canPull: boolean
  onPull: (name: string) => void
  onPick: (question: string) => void
  onRegenerate: () => void
  onEdit: () => void
}

/** Keeps a scroller at its bottom while content grows, unless the reader scrolled up. */
export function useStickyScroll(dep: unknown) {
  const ref = useRef<HTMLDivElement>(null)
  const pinned = useRef(true)
  useEffect(() => {
    const el = ref.current
    if (el && pinned.current) el.scrollTop = el.scrollHeight
  }, [dep])
  const onScroll = (e: React.UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget
    pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40
  }
  return { ref, onScroll }
}

export function Transcript({ messages, streaming, loadError, model, canPull, onPull, onPick, onRegenerate, onEdit }: Props) {
  const scroll = useStickyScroll(messages)
  const lastIndex = messages.length - 1
  const lastUserIndex = messages.map((m) => m.role).lastIndexOf('user')
  return (
    <div className="transcript" ref={scroll.ref} onScroll={scroll.onScroll}>
      {loadError ? <Notice kind="error" title="Could not open this conversation.">{loadError}</Notice> : null}
      {messages.length === 0 && !loadError ? <Welcome model={model} onPick={onPick} /> : null}
      {messages.map((m, i) => (
        <MessageView
          key={m.key}
          m={m}
          canPull={canPull}
          onPull={() => onPull(m.model ?? model)}
          actions={
            !streaming && i === lastIndex && m.role === 'assistant' ? (
              <button type="button" className="btn btn-ghost btn-small" onClick={onRegenerate}>
                ↻ Regenerate
              </button>
            ) : !streaming && i === lastUserIndex && (i === lastIndex || i === lastIndex - 1) ? (
              <button type="button" className="btn btn-ghost btn-small" onClick={onEdit}>
                ✎ Edit
              </button>
            ) : null
          }
        />
      ))}
    </div>
  )
}

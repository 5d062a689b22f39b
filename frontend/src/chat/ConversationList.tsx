// The sidebar: saved conversations with open, rename, export and delete.
import { useState } from 'react'
import type { Conversation } from '../api/rest'
import { fmtDate } from '../lib/format'

interface Props {
  items: Conversation[] | null
  error: string | null
  activeId: string | null
  onNew: () => void
  onOpen: (id: string) => void
  onRename: (id: string, title: string) => void
  onDelete: (id: string) => void
  onExport: (c: Conversation, format: 'md' | 'json') => void
}

function Item({ c, active, ...p }: { c: Conversation; active: boolean } & Omit<Props, 'items' | 'error' | 'activeId' | 'onNew'>) {
  const [editing, setEditing] = useState(false)
  const [title, setTitle] = useState(c.title)
  const [menu, setMenu] = useState(false)
  if (editing) {
    return (
      <li className="conv editing">
        <form
          onSubmit={(e) => {
            e.preventDefault()
            setEditing(false)
            if (title.trim() && title.trim() !== c.title) p.onRename(c.id, title.trim())
          }}
        >
          <input
            autoFocus
            aria-label="Conversation title"
            value={title}
            maxLength={200}
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                setTitle(c.title)
                setEditing(false)
              }
            }}
            onBlur={(e) => e.currentTarget.form?.requestSubmit()}
          />
        </form>
      </li>
    )
  }
  return (
    <li className={`conv${active ? ' active' : ''}`}>
      <button type="button" className="conv-open" onClick={() => p.onOpen(c.id)} aria-current={active ? 'true' : undefined}>
        <span className="conv-title">{c.title || 'Untitled'}</span>
        <span className="conv-meta">
          {fmtDate(c.updated_at)} · {c.message_count} msg
        </span>
      </button>
      <button
        type="button"
        className="conv-more"
        aria-label={`Actions for ${c.title || 'conversation'}`}
        aria-expanded={menu}
        onClick={() => setMenu(!menu)}
      >
        ⋯
      </button>
      {menu ? (
        <div className="conv-menu" role="menu" onMouseLeave={() => setMenu(false)}>
          <button type="button" role="menuitem" onClick={() => (setMenu(false), setTitle(c.title), setEditing(true))}>
            Rename
          </button>
          <button type="button" role="menuitem" onClick={() => (setMenu(false), p.onExport(c, 'md'))}>
            Export Markdown
          </button>
          <button type="button" role="menuitem" onClick={() => (setMenu(false), p.onExport(c, 'json'))}>
            Export JSON
          </button>
          <button
            type="button"
            role="menuitem"
            className="danger"
            onClick={() => {
              setMenu(false)
              if (window.confirm(`Delete “${c.title || 'Untitled'}”? This cannot be undone.`)) p.onDelete(c.id)
            }}
          >
            Delete
          </button>
        </div>
      ) : null}
    </li>
  )
}

export function ConversationList({ items, error, activeId, onNew, ...rest }: Props) {
  return (
    <aside className="sidebar" aria-label="Conversations">
      <button type="button" className="btn btn-primary new-chat" onClick={onNew}>
        + New chat
      </button>
      {error ? <div className="error-text small">{error}</div> : null}
      {items === null && !error ? <div className="muted small pad">Loading…</div> : null}
      {items && items.length === 0 ? <div className="muted small pad">No saved conversations yet.</div> : null}
      <ul className="conv-list">
        {items?.map((c) => (
          <Item key={c.id} c={c} active={c.id === activeId} {...rest} />
        ))}
      </ul>
    </aside>
  )
}

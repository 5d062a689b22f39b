// The conversations sidebar wired to the server: the list comes from the conversations
// query; rename, delete and export act on it and refresh it.
import { useQueryClient } from '@tanstack/react-query'
import { api, downloadExport } from '../api/client'
import { errorMessage } from '../api/errors'
import { keys, useConversations } from '../api/queries'
import { ConversationList } from './ConversationList'

interface Props {
  activeId: string | null
  /** A failure saving the open conversation, shown with the list. */
  saveError: string | null
  onError: (message: string) => void
  onNew: () => void
  onOpen: (id: string) => void
  onDeleted: (id: string) => void
}

export function ChatSidebar({ activeId, saveError, onError, onNew, onOpen, onDeleted }: Props) {
  const qc = useQueryClient()
  const list = useConversations()
  const refresh = () => qc.invalidateQueries({ queryKey: keys.conversations })
  const fail = (err: unknown) => onError(errorMessage(err))
  return (
    <ConversationList
      items={list.data ?? null}
      error={saveError ?? (list.error ? errorMessage(list.error) : null)}
      activeId={activeId}
      onNew={onNew}
      onOpen={onOpen}
      onRename={(id, title) => api.updateConversation(id, { title }).then(refresh).catch(fail)}
      onDelete={(id) =>
        api
          .deleteConversation(id)
          .then(() => {
            onDeleted(id)
            return refresh()
          })
          .catch(fail)
      }
      onExport={(c, format) => downloadExport(c.id, format, c.title).catch(fail)}
    />
  )
}

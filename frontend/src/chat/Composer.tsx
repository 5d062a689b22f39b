// The message box: Enter sends, Shift+Enter is a new line.
import { forwardRef } from 'react'

interface Props {
  text: string
  onText: (text: string) => void
  streaming: boolean
  error: string | null
  onSend: () => void
  onStop: () => void
}

export const Composer = forwardRef<HTMLTextAreaElement, Props>(function Composer(
  { text, onText, streaming, error, onSend, onStop },
  ref,
) {
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault()
        onSend()
      }}
    >
      {error ? <div className="error-text small">{error}</div> : null}
      <div className="composer-row">
        <textarea
          ref={ref}
          aria-label="Message"
          placeholder="Message… (Enter to send, Shift+Enter for a new line)"
          rows={2}
          value={text}
          onChange={(e) => onText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault()
              onSend()
            }
            // Esc (stop) is handled once, page-wide, by the chat page.
          }}
        />
        {streaming ? (
          <button type="button" className="btn btn-danger" onClick={onStop} title="Stop (Esc)">
            ■ Stop
          </button>
        ) : (
          <button type="submit" className="btn btn-primary" disabled={!text.trim()}>
            Send
          </button>
        )}
      </div>
    </form>
  )
})

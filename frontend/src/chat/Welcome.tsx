// The empty transcript: what happens here, and a few prompts to start from.
import { ConnectCard } from '../connect/ConnectCard'
import { Empty } from '../lib/ui'

const SUGGESTIONS = [
  'Explain why the sky is blue, briefly.',
  'Write a Python function that checks if a string is a palindrome.',
  'Give me three ideas for a weekend project.',
]

export function Welcome({ model, onPick }: { model: string; onPick: (prompt: string) => void }) {
  return (
    <Empty title="Start a conversation">
      <p>Ask anything. Replies stream from {model || 'your model'}; thinking shows up in its own block.</p>
      <ConnectCard />
      <div className="suggestions">
        {SUGGESTIONS.map((q) => (
          <button key={q} type="button" className="suggestion" onClick={() => onPick(q)}>
            {q}
          </button>
        ))}
      </div>
    </Empty>
  )
}

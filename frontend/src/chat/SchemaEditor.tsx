import { useMemo } from 'react'
import { checkSchema, type SchemaCheck } from './schema'

interface Props {
  value: string
  onChange: (text: string) => void
}

export function SchemaEditor({ value, onChange }: Props) {
  const result: SchemaCheck = useMemo(() => checkSchema(value), [value])
  return (
    <div className="schema-editor">
      <label htmlFor="schema-text">JSON schema for the reply</label>
      <textarea
        id="schema-text"
        className={result.ok ? 'mono' : 'mono invalid'}
        spellCheck={false}
        rows={7}
        value={value}
        aria-invalid={!result.ok}
        aria-describedby="schema-status"
        onChange={(e) => onChange(e.target.value)}
      />
      <div id="schema-status" role="status" className={result.ok ? 'schema-ok' : 'schema-errors'}>
        {result.ok ? (
          <span>✓ Valid schema</span>
        ) : (
          <ul>
            {result.problems.map((p, i) => (
              <li key={i}>
                {p.path ? <code>{p.path}</code> : null} {p.message}
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  )
}

import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { useState } from 'react'
import { afterEach, describe, expect, it } from 'vitest'
import { checkSchema } from '../chat/schema'
import { SchemaEditor } from '../chat/SchemaEditor'
import { EXAMPLE_SCHEMA } from '../chat/schemaExample'

afterEach(cleanup)

function Harness({ initial }: { initial: string }) {
  const [v, setV] = useState(initial)
  return <SchemaEditor value={v} onChange={setV} />
}

describe('checkSchema', () => {
  it('accepts a valid object schema', () => {
    const r = checkSchema(EXAMPLE_SCHEMA)
    expect(r.ok).toBe(true)
    if (r.ok) expect(r.schema.type).toBe('object')
  })

  it('flags invalid JSON with where it broke', () => {
    const r = checkSchema('{"type": "object",\n  "properties": }')
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.problems[0].message).toMatch(/Invalid JSON/)
  })

  it('flags a schema that breaks the JSON Schema meta-schema', () => {
    const r = checkSchema('{"type": "objekt", "required": "colors"}')
    expect(r.ok).toBe(false)
    if (!r.ok) {
      const paths = r.problems.map((p) => p.path)
      expect(paths.some((p) => p.startsWith('/type') || p.startsWith('/required'))).toBe(true)
    }
  })

  it('flags a non-object top level', () => {
    expect(checkSchema('[1,2]').ok).toBe(false)
    expect(checkSchema('{"type": "array", "items": {"type": "string"}}').ok).toBe(false)
    expect(checkSchema('   ').ok).toBe(false)
  })
})

describe('SchemaEditor', () => {
  it('shows valid, then inline errors as the text changes', () => {
    render(<Harness initial={EXAMPLE_SCHEMA} />)
    const status = () => screen.getByRole('status')
    const box = screen.getByLabelText('JSON schema for the reply')
    expect(status().textContent).toContain('Valid schema')
    expect(box.getAttribute('aria-invalid')).toBe('false')

    fireEvent.change(box, { target: { value: '{"type": "object", ' } })
    expect(status().textContent).toMatch(/Invalid JSON/)
    expect(box.getAttribute('aria-invalid')).toBe('true')

    fireEvent.change(box, { target: { value: '{"type": 5}' } })
    expect(status().textContent).not.toContain('Valid schema')
    expect(status().querySelectorAll('li').length).toBeGreaterThan(0)

    fireEvent.change(box, { target: { value: '{"type": "object", "properties": {"n": {"type": "integer"}}}' } })
    expect(status().textContent).toContain('Valid schema')
  })
})

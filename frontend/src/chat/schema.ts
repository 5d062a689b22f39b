// Checks a JSON schema typed by the user before it is sent as
// `response_format.json_schema`: JSON syntax first, then the JSON Schema
// meta-schema (ajv), then the shape OpenAI structured output expects.
import Ajv2020 from 'ajv/dist/2020'

export interface SchemaProblem {
  path: string
  message: string
}

export type SchemaCheck = { ok: true; schema: Record<string, unknown> } | { ok: false; problems: SchemaProblem[] }

let ajv: Ajv2020 | null = null
function validator(): Ajv2020 {
  ajv ??= new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
  return ajv
}

/** Line and column of a JSON.parse error, where the engine says where. */
function jsonErrorPosition(text: string, err: Error): string {
  const pos = /position (\d+)/.exec(err.message)
  if (!pos) return ''
  const offset = Number(pos[1])
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - before.lastIndexOf('\n')
  return `line ${line}, column ${column}`
}

export function checkSchema(text: string): SchemaCheck {
  if (!text.trim()) return { ok: false, problems: [{ path: '', message: 'The schema is empty.' }] }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    const where = jsonErrorPosition(text, err as Error)
    return { ok: false, problems: [{ path: where, message: `Invalid JSON: ${(err as Error).message}` }] }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problems: [{ path: '', message: 'A schema must be a JSON object.' }] }
  }
  const schema = value as Record<string, unknown>
  const ajv = validator()
  let valid: boolean
  try {
    valid = ajv.validateSchema(schema) as boolean
  } catch (err) {
    // ajv compiles validators with `new Function`; a strict Content-Security-Policy
    // forbids that, and then only the checks below apply (the server validates too).
    if (err instanceof EvalError) return shapeCheck(schema)
    throw err
  }
  if (!valid) {
    const problems = (ajv.errors ?? []).map((e) => ({
      path: e.instancePath || '/',
      message: `${e.message ?? 'invalid'}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`,
    }))
    return { ok: false, problems: problems.length ? problems : [{ path: '/', message: 'Not a valid JSON Schema.' }] }
  }
  try {
    ajv.compile(schema)
    ajv.removeSchema(schema)
  } catch (err) {
    return { ok: false, problems: [{ path: '/', message: (err as Error).message }] }
  }
  return shapeCheck(schema)
}

function shapeCheck(schema: Record<string, unknown>): SchemaCheck {
  if (schema.type !== 'object') {
    return { ok: false, problems: [{ path: '/type', message: 'Structured output needs a top-level "type": "object".' }] }
  }
  return { ok: true, schema }
}

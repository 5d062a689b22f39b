// The schema the editor starts with (kept apart from ./schema so ajv loads lazily).
export const EXAMPLE_SCHEMA = `{
  "type": "object",
  "properties": {
    "colors": { "type": "array", "items": { "type": "string" } }
  },
  "required": ["colors"],
  "additionalProperties": false
}`

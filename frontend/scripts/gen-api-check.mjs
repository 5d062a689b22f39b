// Drift check for the generated API client: regenerates openapi.json and schema.ts
// into a temporary folder and fails when they differ from the committed files.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const python = process.env.CONNECTOR_PYTHON ?? '../.venv/bin/python'
const dir = mkdtempSync(join(tmpdir(), 'gen-api-'))
try {
  const spec = execFileSync(python, ['-m', 'connector.openapi'], { encoding: 'utf8' })
  writeFileSync(join(dir, 'openapi.json'), spec)
  // npm puts node_modules/.bin on PATH for `npm run`.
  execFileSync('openapi-typescript', [join(dir, 'openapi.json'), '-o', join(dir, 'schema.ts')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  let drift = false
  for (const file of ['openapi.json', 'schema.ts']) {
    const fresh = readFileSync(join(dir, file), 'utf8')
    const committed = readFileSync(join('src/api', file), 'utf8')
    if (fresh !== committed) {
      console.error(`src/api/${file} is out of date: run \`npm run gen:api\` and commit it`)
      drift = true
    }
  }
  if (drift) process.exit(1)
  console.log('API client is up to date with the service OpenAPI schema')
} finally {
  rmSync(dir, { recursive: true, force: true })
}

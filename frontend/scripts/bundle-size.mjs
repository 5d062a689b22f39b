// Prints the raw and gzipped size of every built JS/CSS asset, and the JS total,
// so a growing bundle shows up in every build log.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'

const outDir = new URL('../../connector/static/', import.meta.url).pathname
const assets = join(outDir, 'assets')
const kb = (n) => `${(n / 1024).toFixed(1)} kB`
let jsRaw = 0
let jsGz = 0
const rows = []
for (const name of readdirSync(assets).sort()) {
  if (!/\.(js|css)$/.test(name)) continue
  const body = readFileSync(join(assets, name))
  const gz = gzipSync(body, { level: 9 }).length
  rows.push(`  ${name.padEnd(44)} ${kb(body.length).padStart(10)}  gzip ${kb(gz).padStart(9)}`)
  if (name.endsWith('.js')) {
    jsRaw += body.length
    jsGz += gz
  }
}
console.log('bundle sizes:')
console.log(rows.join('\n'))
console.log(`JS total: ${kb(jsRaw)} raw, ${kb(jsGz)} gzipped`)
// The build empties the output folder; keep the placeholder that git tracks.
const keep = join(outDir, '.gitkeep')
if (!existsSync(keep)) writeFileSync(keep, '')

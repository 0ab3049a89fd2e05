// Applies the pending changesets (.changeset/*.md): bumps sluice and sluice-server together (one
// `fixed` group), writes their CHANGELOG.md entries, then copies the new version of sluice into
// packages/sluice/deno.json, which changesets does not know (JSR publishes from it).
//
//   node scripts/version-packages.mjs      # or: npm run version-packages
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
execFileSync(process.execPath, [join(root, 'node_modules', '@changesets', 'cli', 'bin.js'), 'version'], {
  cwd: root,
  stdio: 'inherit',
})
const { version } = JSON.parse(readFileSync(join(root, 'packages', 'sluice', 'package.json'), 'utf8'))
const denoPath = join(root, 'packages', 'sluice', 'deno.json')
const deno = readFileSync(denoPath, 'utf8')
writeFileSync(denoPath, deno.replace(/"version": "[^"]*"/, `"version": "${version}"`))
console.log(`version-packages: sluice and sluice-server at ${version} (deno.json too)`)

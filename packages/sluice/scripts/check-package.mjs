// Packaging checks for the client, on what would be published:
//   node scripts/check-package.mjs            (from packages/sluice)
// Builds dist/, packs the tarball with pnpm, then checks, each counted as one test:
//   1. publint on the tarball (strict: warnings fail)
//   2. @arethetypeswrong/cli on the tarball, profile esm-only (the package ships ESM only, so
//      require() from CommonJS is not a supported way in; every ESM resolution must be typed)
//   3. the manifest: type module, sideEffects false, `types` before the JS in every export
//   4. no Node built-ins: no `node:` import in src/, and dist/ bundles with esbuild for
//      platform=neutral, where a built-in cannot resolve
//   5. size budget: minified and gzipped with esbuild (no runtime dependency; no zod), one import at a time,
//      with the gzip of the code alone beside it (every string's text removed: blank-strings.mjs)
//   6. React only in sluice/react: esbuild bundles of the main entry and sluice/store hold none of it
//   7. JSR: `deno publish --dry-run` on deno.json (type check, slow types, file list), offline
// Prints each result and the size figures; writes { numPassedTests, numFailedTests } to
// $SLUICE_RESULTS; exits non-zero when any check fails.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { blankStrings } from './blank-strings.mjs'

const pkgDir = resolve(import.meta.dirname, '..')
const root = resolve(pkgDir, '..', '..')
const bin = (name) => join(pkgDir, 'node_modules', '.bin', name)

/**
 * The size ceilings, in bytes of gzip (level 9) over esbuild's minified ESM bundle. The issue sets
 * them: a streaming client should cost less than the JSON it saves; decoding NDJSON alone, less than
 * half of that. Raise one only in the commit that needs it, saying why.
 */
// The issue's targets are 6 KB (whole entry) and 2.5 KB (decodeNdjson alone). Measured on the first
// complete build: 10.4 KB and 3.8 KB gzipped. The whole entry carries the resilient fetch layer
// (6.4 KB minified), eventsource-parser (4.3 KB minified) and messages that say what went wrong and
// where; decodeNdjson alone carries every kind of source and the error classes. These ceilings hold
// the line at what exists (+~5%) so nothing grows unnoticed while the size work is open; lower them
// in the commit that shrinks the code. Raised once, 11 → 11.5 KiB for the whole entry: the SSE line
// tracker's fast path plus the exact pass it falls back to on error (sse-lines + sse-line-scan, about
// 1.4 KB minified more) and the NDJSON byte gatherer made decoding 1.1x to 1.3x faster (BENCHMARKS.md);
// 11,503 B gzipped at that commit. Raised again, 11.5 → 12 KiB: contract fixes in the resilient layer
// (a Request input sent whole, pauseWhenHidden under the retry rules, close() and throws from hooks,
// live counters, stall clock on the producer only) took it to 11,772 B. Raised again (issue 14),
// whole entry 12 → 12.5 KiB and decodeNdjson 4 → 4.25 KiB: the caught-up marker (recognised by both
// decoders, which must drop it or count it wrong; `stream.live` and `onLive`) and errors that say the
// fix (a body sniffer that names an HTML page served as text/event-stream, fix text on content-type
// errors) took them from 11,814 to 12,337 B and from 4,089 to 4,187 B. Raised again (issue 14), whole
// entry 12.5 → 13 KiB: the fetch-layer options resume, shouldRetry, persist (storage that survives a
// reload), the server heartbeat announcement and stream.map took it from 12,424 to 13,081 B (each
// option's share in docs/runtimes.md); the split of the resilient layer into modules (issue 13) is
// about +80 B of it. decodeNdjson does not move: none of it is in the decoders.
// Issue 11 (one-pass SSE parser, no runtime dependency, one error builder): the whole entry 13,081 →
// 11,673 B, and ceilings for each import a frontend makes alone. The issue's targets (whole 7 KB, sse
// 5.5 KB, ndjson 5 KB, decodeSse 3 KB, decodeNdjson 2.5 KB) are not met yet; these ceilings are what
// main measured when they were set plus about 2% (decodeNdjson had grown to 4,589 B with the gap and
// caught-up markers, over its 4.25 KiB ceiling: 4.625 KiB now). Per-module breakdown: docs/runtimes.md.
// Issue 11's size work (every module's cold paths; behaviour and messages unchanged): whole entry
// 12,090 → 11,665 B, sse 10,274 → 9,882, ndjson 9,497 → 9,229, decodeSse 5,588 → 5,298, decodeNdjson
// 4,666 → 4,486, SseDecoderStream 4,996 → 4,702, NdjsonDecoderStream 4,060 → 3,897. Ceilings lowered
// to those figures plus about 2%. The targets stay out of reach of the code alone (the figure printed
// "without string text"): docs/runtimes.md, "What the targets would take".
const BUDGETS = [
  { name: 'whole entry (export * from "sluice")', entry: 'export * from "./dist/index.js"', limit: 11.625 * 1024 },
  { name: 'sse alone', entry: 'export { sse } from "./dist/index.js"', limit: 9.875 * 1024 },
  { name: 'ndjson alone', entry: 'export { ndjson } from "./dist/index.js"', limit: 9.25 * 1024 },
  { name: 'decodeSse alone', entry: 'export { decodeSse } from "./dist/index.js"', limit: 5.3125 * 1024 },
  { name: 'decodeNdjson alone', entry: 'export { decodeNdjson } from "./dist/index.js"', limit: 4.5 * 1024 },
  // The stream classes each in a file of their own (issue 11): SseDecoderStream alone had carried the whole NDJSON decoder (6,141 B).
  { name: 'SseDecoderStream alone', entry: 'export { SseDecoderStream } from "./dist/index.js"', limit: 4.6875 * 1024 },
  {
    name: 'NdjsonDecoderStream alone',
    entry: 'export { NdjsonDecoderStream } from "./dist/index.js"',
    limit: 3.875 * 1024,
  },
]

const results = []
async function check(name, fn) {
  try {
    const detail = await fn()
    results.push({ name, ok: true })
    console.log(`ok   ${name}${detail ? `\n${indent(detail)}` : ''}`)
  } catch (error) {
    results.push({ name, ok: false })
    console.log(`FAIL ${name}\n${indent(error instanceof Error ? error.message : String(error))}`)
  }
}

// The checks read dist/: build it so it is never stale.
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
  cwd: pkgDir,
  stdio: 'inherit',
})
const work = mkdtempSync(join(tmpdir(), 'sluice-pack-'))
try {
  const pnpm = join(root, '.tools', 'node_modules', 'pnpm', 'bin', 'pnpm.cjs')
  execFileSync(process.execPath, [pnpm, 'pack', '--pack-destination', work], {
    cwd: pkgDir,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const tarballName = readdirSync(work).find((file) => file.endsWith('.tgz'))
  if (!tarballName) throw new Error('pnpm pack wrote no tarball')
  const tarball = join(work, tarballName)
  console.log(`packed ${tarballName}`)

  await check('publint on the packed tarball (strict)', async () => {
    const buffer = readFileSync(tarball)
    const tarballData = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)
    const { messages, pkg } = await publint({ pack: { tarball: tarballData }, level: 'suggestion', strict: true })
    const lines = messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`)
    if (messages.some((m) => m.type !== 'suggestion')) throw new Error(lines.join('\n'))
    return lines.join('\n')
  })

  await check('@arethetypeswrong/cli on the packed tarball (profile esm-only)', () => {
    const run = spawnSync(
      bin('attw'),
      [tarball, '--profile', 'esm-only', '--format', 'table-flipped', '--no-emoji', '--no-color'],
      {
        encoding: 'utf8',
      },
    )
    const output = `${run.stdout}${run.stderr}`.trim()
    if (run.status !== 0) throw new Error(output)
    return output.split('\n').slice(-12).join('\n')
  })

  await check('manifest: ESM only, sideEffects false, types first in every export', () => {
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
    const problems = []
    if (manifest.type !== 'module') problems.push('"type" is not "module"')
    if (manifest.sideEffects !== false) problems.push('"sideEffects" is not false')
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      if (typeof target !== 'object' || subpath === './package.json') continue
      // A raw-TypeScript `source` condition may precede `types` (publint allows it); nothing else may.
      const keys = Object.keys(target).filter((key) => !String(target[key]).endsWith('.ts') || key === 'types')
      if (keys[0] !== 'types') problems.push(`exports["${subpath}"]: "types" is not the first condition`)
      if (!('default' in target || 'import' in target)) problems.push(`exports["${subpath}"]: no JavaScript condition`)
    }
    if (problems.length > 0) throw new Error(problems.join('\n'))
  })

  await check('no Node built-ins: src/ imports none, dist/ bundles for platform=neutral', async () => {
    const offenders = []
    for (const file of readdirSync(join(pkgDir, 'src'), { recursive: true })) {
      if (!String(file).endsWith('.ts')) continue
      const text = readFileSync(join(pkgDir, 'src', String(file)), 'utf8')
      for (const match of text.matchAll(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)['"](node:[^'"]+)['"]/g)) {
        offenders.push(`src/${file}: ${match[1]}`)
      }
    }
    if (offenders.length > 0) throw new Error(`Node built-ins imported:\n${offenders.join('\n')}`)
    // Neutral platform: esbuild knows no built-ins, so `fs` or `node:fs` anywhere in the graph fails to resolve.
    for (const entry of [
      './dist/index.js',
      './dist/protocol.js',
      './dist/source.js',
      './dist/store.js',
      './dist/react.js',
    ]) {
      await build({
        stdin: { contents: `export * from ${JSON.stringify(entry)}`, resolveDir: pkgDir },
        bundle: true,
        write: false,
        platform: 'neutral',
        mainFields: ['module', 'main'],
        // React is the optional peer of sluice/react: the user's copy, never bundled.
        external: ['react'],
        logLevel: 'silent',
      })
    }
  })

  // Issue 15: React is an optional peer dependency of sluice/react only. Bundled with esbuild, the main
  // entry and sluice/store must read no file of React and import nothing from it; sluice/react imports
  // `react` (left external: the app's own copy) and bundles none of it.
  await check('React reaches sluice/react only: not the main entry, not sluice/store', async () => {
    const lines = []
    const problems = []
    for (const [entry, mayImportReact] of [
      ['./dist/index.js', false],
      ['./dist/store.js', false],
      ['./dist/react.js', true],
    ]) {
      const result = await build({
        stdin: { contents: `export * from ${JSON.stringify(entry)}`, resolveDir: pkgDir },
        bundle: true,
        write: false,
        minify: true,
        format: 'esm',
        platform: 'browser',
        external: ['react', 'react-dom'],
        metafile: true,
        logLevel: 'silent',
      })
      const inputs = Object.keys(result.metafile.inputs)
      const reactFiles = inputs.filter((file) => /node_modules\/(react|react-dom|scheduler)\//.test(file))
      const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((i) => i.path))
      const importsReact = imports.some(
        (path) => path === 'react' || path.startsWith('react/') || path.startsWith('react-dom'),
      )
      if (reactFiles.length > 0) problems.push(`${entry} bundles React's files: ${reactFiles.join(', ')}`)
      if (importsReact !== mayImportReact)
        problems.push(`${entry} ${importsReact ? 'imports' : 'does not import'} react`)
      const code = result.outputFiles[0].contents
      lines.push(
        `${entry}: ${inputs.length} files, ${code.length} B minified, ${gzipSync(code, { level: 9 }).length} B gzipped, imports react: ${importsReact}`,
      )
    }
    if (problems.length > 0) throw new Error(problems.join('\n'))
    return lines.join('\n')
  })

  await check('size budget: minified + gzipped, one import at a time', async () => {
    const lines = []
    const over = []
    for (const budget of BUDGETS) {
      const result = await build({
        stdin: { contents: budget.entry, resolveDir: pkgDir },
        bundle: true,
        write: false,
        minify: true,
        format: 'esm',
        platform: 'neutral',
        mainFields: ['module', 'main'],
        logLevel: 'silent',
      })
      const code = result.outputFiles[0].contents
      const gzipped = gzipSync(code, { level: 9 }).length
      // The code alone (every string's text removed): what no rewording of messages can go below.
      const codeOnly = gzipSync(blankStrings(result.outputFiles[0].text), { level: 9 }).length
      const line = `${budget.name}: ${code.length} B minified, ${gzipped} B gzipped (budget ${budget.limit} B; ${codeOnly} B without string text)`
      lines.push(line)
      if (gzipped > budget.limit) over.push(line)
    }
    if (process.env.SLUICE_SIZE_REPORT) writeFileSync(process.env.SLUICE_SIZE_REPORT, `${lines.join('\n')}\n`)
    if (over.length > 0) throw new Error(`over budget:\n${over.join('\n')}`)
    return lines.join('\n')
  })

  await check('JSR: deno publish --dry-run (type check, slow types, files)', () => {
    const run = spawnSync(bin('deno'), ['publish', '--dry-run', '--allow-dirty'], {
      cwd: pkgDir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    })
    const output = `${run.stdout}${run.stderr}`.trim()
    if (run.status !== 0) throw new Error(output.split('\n').slice(-40).join('\n'))
    return output
      .split('\n')
      .filter((line) => /Success|publish/.test(line))
      .join('\n')
  })
} finally {
  rmSync(work, { recursive: true, force: true })
}

const passed = results.filter((r) => r.ok).length
const failed = results.length - passed
console.log(`package checks: ${results.length} run, ${passed} passed, ${failed} failed`)
if (process.env.SLUICE_RESULTS) {
  writeFileSync(process.env.SLUICE_RESULTS, JSON.stringify({ numPassedTests: passed, numFailedTests: failed }))
}
process.exit(failed > 0 ? 1 : 0)

function indent(text) {
  return text
    .split('\n')
    .map((line) => `     ${line}`)
    .join('\n')
}

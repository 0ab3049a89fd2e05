// Runs the reliability scenarios (hardening, chaos, soak, restart, slow clients) and writes
// RELIABILITY.md from what they measured. `--long` runs the fuzzing and the soak ten times longer.
//
//   node scripts/reliability.mjs [--long]
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
// One directory per run: two runs at once (two terminals, two helpers) must not mix their figures.
const out = join(root, '.artifacts', 'reliability', String(process.pid))
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const figures = join(out, 'figures.jsonl')
const long = process.argv.includes('--long')
const env = {
  ...process.env,
  SLUICE_FIGURES: figures,
  ...(long ? { SLUICE_FUZZ_RUNS: '3000', SLUICE_SOAK_FAULTS: '20000' } : {}),
}
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const runs = [
  // test/hardening/ has its own config (one file at a time, --expose-gc); the unit config excludes it.
  { cwd: 'packages/sluice', config: 'vitest.hardening.config.ts', files: [] },
  { cwd: 'packages/sluice', files: ['test/resilience.test.ts', 'test/restart.test.ts'] },
  { cwd: 'packages/sluice-server', files: ['test/slow-client.test.ts'] },
]
let passed = 0
let failed = 0
for (const [i, run] of runs.entries()) {
  const report = join(out, `vitest-${i}.json`)
  const config = run.config ? ['-c', run.config] : []
  spawnSync(process.execPath, [vitest, 'run', ...config, ...run.files, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    cwd: join(root, run.cwd),
    env,
    stdio: 'inherit',
  })
  if (existsSync(report)) {
    const result = JSON.parse(readFileSync(report, 'utf8'))
    passed += result.numPassedTests
    failed += result.numFailedTests
  } else failed++
}

const rows = existsSync(figures)
  ? readFileSync(figures, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line))
  : []
const cell = (value, suffix = '') => (value === undefined ? '–' : `${typeof value === 'number' ? value.toLocaleString('en-US') : value}${suffix}`)
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`

const markdown = `# Reliability

What sluice promises under hostile input and a hostile network, and the figures that back it.
Every row below was measured by \`node scripts/reliability.mjs${long ? ' --long' : ''}\`, which runs the scenarios in
\`packages/sluice/test/hardening/\`, \`test/resilience.test.ts\`, \`test/restart.test.ts\` and
\`packages/sluice-server/test/slow-client.test.ts\` against real servers on loopback and writes this file.
The same tests run (with the same bounds) in every \`npm test\`; \`--long\` runs the fuzzing and the soak longer.

Run: commit ${commit}, ${new Date().toISOString().slice(0, 10)}, ${machine}.
Tests: ${passed} passed, ${failed} failed.

| scenario | cases | faults injected | records | lost | duplicated | peak memory | notes |
| --- | --: | --: | --: | --: | --: | --: | --- |
${rows
  .map((r) => `| ${r.scenario} | ${cell(r.cases)} | ${cell(r.faults)} | ${cell(r.records)} | ${cell(r.lost)} | ${cell(r.duplicated)} | ${cell(r.peakMiB, ' MiB')} | ${r.detail ?? ''} |`)
  .join('\n')}

"Peak memory" is the growth of resident memory (or of the heap after GC, where the notes say so) over the
scenario, not the process total.

## What each guarantees

- **Fuzzing**: arbitrary bytes under arbitrary chunkings, through \`decodeNdjson\`, \`decodeSse\` and both
  TransformStreams, end in records or in a \`SluiceError\` with a \`code\`: never another exception, never a
  hang. A line with no end is refused with \`LINE_TOO_LONG\` after at most \`maxLineBytes\` plus one chunk
  was pulled, whatever the chunk size. Invalid UTF-8 becomes U+FFFD, or \`ENCODING_ERROR\` with \`fatal: true\`.
- **Chaos property and soak**: across cuts at random byte offsets (mid-record too), clean early ends
  without the end marker, 5xx and 429 answers with \`Retry-After\`, and servers that replay inclusively,
  the consumer receives every record exactly once and in order. Heap stays flat; no timer or socket is
  left once the stream ends.
- **Restart**: a server killed with SIGKILL and restarted on the same port mid-stream costs retries,
  never records.
- **Hostile servers**: an endless line costs bounded memory; a million tiny events stream through in flat
  memory; \`retry: 0\` cannot push reconnects below \`minDelayMs\`; a redirect loop is a final
  \`REDIRECT_LOOP\`; a year-long \`Retry-After\` is capped by \`maxDelayMs\`; an id with CR, LF or NUL never
  reaches a header (and is no resume position); \`__proto__\` and \`constructor\` keys pollute no prototype.
- **Server side**: a client that never reads makes sluice-server pull only what fits in the socket
  buffers, and the write timeout reaps it and releases the source; many concurrent streams all complete.
`
writeFileSync(join(root, 'RELIABILITY.md'), markdown)
console.log(`\nwrote RELIABILITY.md: ${rows.length} scenarios; ${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)

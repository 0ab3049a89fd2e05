/**
 * `pnpm bench`: builds sluice, then measures it against its peers and the limits in one run:
 * NDJSON and SSE throughput at three chunk sizes (contestants interleaved round-robin), peak RSS
 * streaming a large NDJSON response over loopback HTTP, and per-record delivery latency.
 *
 *   node --expose-gc run.mjs            full run: writes BENCHMARKS.md's results block and bench/results/
 *   node --expose-gc run.mjs --quick    every contestant once on small corpora (CI); writes .bench-corpus/quick/
 *   --only=ndjson,sse,memory,latency    run some sections (development; writes .bench-corpus/partial/)
 *   --no-build                          skip building sluice
 *
 * Exits non-zero when a contestant fails or disagrees with the corpus; targets are reported, never enforced.
 *
 * @module
 */

import { constants } from 'node:buffer'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const args = process.argv.slice(2)
const quick = args.includes('--quick')
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',')
const wants = (section) => !only || only.includes(section)
const log = (line) => console.log(line)
const KiB = 1024
const MiB = 1024 * KiB

/** Each consumer mode at each size, sizes in turn. */
function runsOf(sizes) {
  return sizes.flatMap((size) => ['bare', 'sluice', 'text'].map((mode) => ({ mode, size })))
}

const plan = quick
  ? {
      ndjsonSizes: [
        { chunkSize: 64 * KiB, bytes: 2 * MiB },
        { chunkSize: 1536, bytes: 1 * MiB },
        { chunkSize: 17, bytes: 128 * KiB },
      ],
      sseSizes: [
        { chunkSize: 64 * KiB, bytes: 2 * MiB },
        { chunkSize: 1536, bytes: 1 * MiB },
        { chunkSize: 17, bytes: 128 * KiB },
      ],
      rounds: 1,
      warmup: 0,
      memoryRuns: runsOf([16 * MiB, 64 * MiB]),
      latency: { count: 200, intervalMs: 1, discard: 20 },
    }
  : {
      ndjsonSizes: [
        { chunkSize: 64 * KiB, bytes: 32 * MiB },
        { chunkSize: 1536, bytes: 16 * MiB },
        { chunkSize: 17, bytes: 4 * MiB },
      ],
      sseSizes: [
        { chunkSize: 64 * KiB, bytes: 32 * MiB },
        { chunkSize: 1536, bytes: 16 * MiB },
        { chunkSize: 17, bytes: 4 * MiB },
      ],
      rounds: 7,
      warmup: 2,
      // Store-and-forward either side of V8's string limit (536,870,888): 511 MiB is under it in bytes, 512 MiB over.
      memoryRuns: [
        ...runsOf([64 * MiB, 1024 * MiB]),
        { mode: 'text', size: 511 * MiB },
        { mode: 'text', size: 512 * MiB },
      ],
      latency: { count: 3000, intervalMs: 1, discard: 100 },
    }

if (!args.includes('--no-build')) {
  // Measure the built JS, as users run it: build sluice's dist/ first.
  const pnpm = join(root, '.tools', 'node_modules', 'pnpm', 'bin', 'pnpm.cjs')
  log('building sluice (dist/)')
  const built = spawnSync(process.execPath, [pnpm, '--filter', 'sluice', 'run', 'build'], {
    cwd: root,
    stdio: 'inherit',
  })
  if (built.status !== 0) process.exit(built.status ?? 1)
}
if (typeof globalThis.gc !== 'function') log('note: run with --expose-gc to collect garbage between runs')

// Imported after the build so `sluice` resolves to the fresh dist/.
const { ndjsonContestants, sseContestants } = await import('./lib/contestants.mjs')
const { ndjsonCorpus, sseCorpus, bodyPool, pooledLine } = await import('./lib/corpus.mjs')
const { runThroughput } = await import('./lib/throughput.mjs')
const { startServer, runMemory, runLatency } = await import('./lib/http.mjs')
const { quantile } = await import('./lib/stats.mjs')
const { chart } = await import('./lib/chart.mjs')
const { markdown, targets } = await import('./lib/report.mjs')

const cpus = os.cpus()
const results = {
  mode: quick ? 'quick' : 'full',
  command: quick ? 'pnpm --filter sluice-bench bench:quick' : 'pnpm bench',
  date: new Date().toISOString().slice(0, 10),
  machine: {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    memory: os.totalmem(),
  },
}
results.machine.line = `${results.machine.cpu}, ${results.machine.cores} cores, ${(results.machine.memory / 2 ** 30).toFixed(0)} GiB, Node ${results.machine.node}, ${results.machine.os}`
// Which sluice was measured: the commit, and whether its src/ had uncommitted changes (then say so).
const git = (...argv) => spawnSync('git', argv, { cwd: root, encoding: 'utf8' })
const head = git('rev-parse', '--short', 'HEAD')
results.sluice = {
  commit: head.status === 0 ? head.stdout.trim() : 'unknown',
  dirty: head.status === 0 && git('status', '--porcelain', '--', 'packages/sluice/src').stdout.trim() !== '',
}
results.load = { start: os.loadavg()[0] }
log(`machine: ${results.machine.line}; load average ${results.load.start.toFixed(2)}`)
const started = performance.now()

if (wants('ndjson')) {
  log('NDJSON throughput')
  results.ndjson = await runThroughput({
    label: 'ndjson',
    contestants: ndjsonContestants,
    corpus: (bytes) => ndjsonCorpus(bytes),
    sizes: plan.ndjsonSizes,
    rounds: plan.rounds,
    warmup: plan.warmup,
    log,
  })
}
if (wants('sse')) {
  log('SSE throughput')
  results.sse = await runThroughput({
    label: 'sse',
    contestants: sseContestants,
    corpus: (bytes) => sseCorpus(bytes),
    sizes: plan.sseSizes,
    rounds: plan.rounds,
    warmup: plan.warmup,
    log,
  })
}
for (const key of ['ndjson', 'sse'])
  for (const size of results[key] ?? []) for (const row of size.rows) delete row.times

if (wants('memory') || wants('latency')) {
  const server = await startServer()
  try {
    if (wants('memory')) {
      log('memory')
      const runs = await runMemory({ url: server.url, runs: plan.memoryRuns, log })
      // The stream cycles one pool of bodies: its UTF-16 units per byte is the whole stream's, to within the ids.
      const bodies = bodyPool(7)
      let units = 0
      let bytes = 0
      for (let seq = 0; seq < bodies.length; seq++) {
        const line = pooledLine(bodies, seq)
        units += line.length
        bytes += Buffer.byteLength(line)
      }
      results.memory = { runs, maxStringLength: constants.MAX_STRING_LENGTH, unitsPerByte: units / bytes }
    }
    if (wants('latency')) {
      log('latency')
      const runs = await runLatency({
        url: server.url,
        ...plan.latency,
        modes: ['latency-sluice', 'latency-loop'],
        log,
      })
      results.latency = {
        ...plan.latency,
        runs: runs.map(({ latencies, ...r }) => ({
          ...r,
          p50: quantile(latencies, 0.5),
          p90: quantile(latencies, 0.9),
          p99: quantile(latencies, 0.99),
          max: Math.max(...latencies),
        })),
      }
    }
  } finally {
    await server.stop()
  }
}
results.seconds = (performance.now() - started) / 1000
results.load.end = os.loadavg()[0]

const md = markdown(results)
const svg = chart(results)
// Only a full run of every section replaces the committed results; the others go to the gitignored .bench-corpus/.
const outDir = quick || only ? join(root, '.bench-corpus', quick ? 'quick' : 'partial') : join(root, 'bench', 'results')
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, 'chart.svg'), svg)
writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 1)}\n`)
if (quick || only) {
  writeFileSync(join(outDir, 'results.md'), `${md}\n`)
} else {
  // Full run: replace the generated block of BENCHMARKS.md, keep the prose around it.
  const file = join(root, 'BENCHMARKS.md')
  const START = '<!-- results:start (generated by `pnpm bench`: do not edit by hand) -->'
  const END = '<!-- results:end -->'
  const current = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`
  const from = current.indexOf(START)
  const to = current.indexOf(END)
  if (from === -1 || to === -1) throw new Error('BENCHMARKS.md lost its results markers')
  writeFileSync(file, `${current.slice(0, from + START.length)}\n${md}\n${current.slice(to)}`)
}
log(
  quick
    ? '\ntargets (quick mode: corpora too small and runs too few for these figures to mean anything; nothing is enforced)'
    : '\ntargets (reported, not enforced)',
)
for (const t of targets(results)) log(`${t.ok ? 'met    ' : 'not met'}  ${t.target}: ${t.measured}`)
log(
  `\nwrote ${relative(root, outDir)}/${quick || only ? ' (results.md, chart.svg, results.json)' : ' and BENCHMARKS.md'} in ${results.seconds.toFixed(0)} s`,
)

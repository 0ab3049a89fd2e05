/**
 * Profiles one contestant alone, for finding hot paths:
 *
 *   node profile.mjs <ndjson|sse> <chunkSize> [contestant] [seconds]
 *
 * re-runs itself under `node --cpu-prof` (profile in .bench-corpus/profiles/), repeats the
 * contestant over a 16 MiB corpus for the given seconds, then prints the functions with the most
 * self time and the throughput reached.
 *
 * @module
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

const [kind = 'ndjson', chunkArg = '65536', name = 'sluice', secondsArg = '5'] = process.argv.slice(2)
const dir = resolve(import.meta.dirname, '..', '.bench-corpus', 'profiles')

if (!process.execArgv.some((a) => a.startsWith('--cpu-prof'))) {
  mkdirSync(dir, { recursive: true })
  const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...process.argv.slice(1)], {
    stdio: 'inherit',
  })
  if (run.status !== 0) process.exit(run.status ?? 1)
  const latest = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]
  summarize(JSON.parse(readFileSync(latest, 'utf8')))
  console.log(`profile: ${latest}`)
} else {
  const { ndjsonContestants, sseContestants } = await import('./lib/contestants.mjs')
  const { ndjsonCorpus, sseCorpus, chunksOf } = await import('./lib/corpus.mjs')
  const contestants = kind === 'sse' ? sseContestants : ndjsonContestants
  const contestant = contestants.find((c) => c.name === name)
  if (!contestant) throw new Error(`no ${kind} contestant named ${name}: ${contestants.map((c) => c.name).join(', ')}`)
  const data = (kind === 'sse' ? sseCorpus : ndjsonCorpus)(16 * 2 ** 20)
  const input = { chunks: chunksOf(data.buffer, Number(chunkArg)), lines: data.lines }
  const until = performance.now() + Number(secondsArg) * 1000
  let runs = 0
  let ms = 0
  while (performance.now() < until) {
    const started = performance.now()
    await contestant.run(input)
    ms += performance.now() - started
    runs++
  }
  console.log(
    `${kind} ${name} at ${chunkArg} B chunks: ${((data.buffer.length * runs) / 1e6 / (ms / 1000)).toFixed(1)} MB/s over ${runs} runs`,
  )
}

/** Self time per function (by name and location), top 25, from a V8 CPU profile. */
function summarize(profile) {
  const dt = new Map()
  const { samples, timeDeltas, nodes } = profile
  const byId = new Map(nodes.map((n) => [n.id, n]))
  let total = 0
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i])
    const { functionName, url, lineNumber } = node.callFrame
    const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`
    dt.set(key, (dt.get(key) ?? 0) + timeDeltas[i])
    total += timeDeltas[i]
  }
  const rows = [...dt].sort((a, b) => b[1] - a[1]).slice(0, 25)
  for (const [key, us] of rows)
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`)
}

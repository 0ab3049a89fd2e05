// Runs the reliability scenarios (fuzzing, hostile servers, soak, leaks, the chaos property, a
// server restart, slow clients, feeds across instances) and writes RELIABILITY.md from what they
// measured: every figure in the table comes from a test of this run (they append JSON lines to
// $SLUICE_FIGURES).
//
//   node scripts/reliability.mjs          # the bounds `npm test` uses (a minute or so)
//   node scripts/reliability.mjs --long   # fuzzing x100 (30,000 cases per property), soak x10 (20,000 faults)
//
// Exits 1 when a test failed (RELIABILITY.md is still written, with the failure count).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const out = join(root, '.artifacts', 'reliability')
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const figures = join(out, 'figures.jsonl')
const long = process.argv.includes('--long')
const env = {
  ...process.env,
  SLUICE_FIGURES: figures,
  ...(long ? { SLUICE_FUZZ_RUNS: '30000', SLUICE_SOAK_FAULTS: '20000' } : {}),
}
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const runs = [
  { cwd: 'packages/sluice', args: ['-c', 'vitest.hardening.config.ts'] },
  { cwd: 'packages/sluice', args: ['-c', 'vitest.resilience.config.ts'] },
  { cwd: 'packages/sluice-server', args: ['test/slow-client.test.ts'] },
  // The whole stack: nginx ssl http2, Chromium over HTTP/1.1 and HTTP/2, a Postgres cursor (about a minute).
  { cwd: 'packages/sluice-server', args: ['-c', 'vitest.stack.config.ts'] },
  // Feeds: three instances on Redis behind nginx, kill -9 of an instance and of Redis, trimming (about a minute).
  { cwd: 'packages/sluice-server', args: ['-c', 'vitest.feeds.config.ts', 'test/feeds/cluster.test.ts'] },
]
const started = Date.now()
let passed = 0
let failed = 0
for (const [i, run] of runs.entries()) {
  const report = join(out, `vitest-${i}.json`)
  spawnSync(
    process.execPath,
    [vitest, 'run', ...run.args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    {
      cwd: join(root, run.cwd),
      env,
      stdio: 'inherit',
    },
  )
  if (existsSync(report)) {
    const result = JSON.parse(readFileSync(report, 'utf8'))
    passed += result.numPassedTests
    failed += result.numFailedTests
  } else failed++
}
const minutes = ((Date.now() - started) / 60_000).toFixed(1)

const rows = existsSync(figures)
  ? readFileSync(figures, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
  : []
// Sections in a fixed order, rows in the order the tests ran within each.
const sections = [
  ['Chaos, soak, concurrency and restart', (s) => /^(chaos|soak|concurrent|server process)/.test(s)],
  ['Hostile servers', (s) => s.startsWith('hostile')],
  ['Leaks and policy', (s) => /^(leaks|policy)/.test(s)],
  ['Fuzzing', (s) => s.startsWith('fuzz')],
  ['Server side (sluice-server over node:http)', (s) => s.startsWith('server:')],
  ['Whole stack (HTTP/2, nginx ssl http2, Chromium, Postgres cursor)', (s) => s.startsWith('stack:')],
  ['Feeds (Redis Streams: three instances behind nginx)', (s) => s.startsWith('feeds:')],
]
const placed = new Set()
const grouped = sections.map(([title, match]) => {
  const inSection = rows.filter((r) => !placed.has(r) && match(r.scenario))
  for (const r of inSection) placed.add(r)
  return [title, inSection]
})
const rest = rows.filter((r) => !placed.has(r))
if (rest.length > 0) grouped.push(['Other', rest])

const cell = (value, suffix = '') =>
  value === undefined ? '–' : `${typeof value === 'number' ? value.toLocaleString('en-US') : value}${suffix}`
const table = (list) =>
  [
    '| scenario | cases | faults injected | records | lost | duplicated | memory growth (peak) | measured |',
    '| --- | --: | --: | --: | --: | --: | --: | --- |',
    ...list.map(
      (r) =>
        `| ${r.scenario} | ${cell(r.cases)} | ${cell(r.faults)} | ${cell(r.records)} | ${cell(r.lost)} | ${cell(r.duplicated)} | ${cell(r.peakMiB, ' MiB')} | ${r.detail ?? ''} |`,
    ),
  ].join('\n')
const sum = (key) => rows.reduce((n, r) => n + (typeof r[key] === 'number' ? r[key] : 0), 0)

const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim()
const dirty = git('status', '--porcelain', '--', 'packages/sluice/src', 'packages/sluice-server/src') !== ''
const commit = `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' (with uncommitted changes to src)' : ''}`
const cpus = os.cpus()
const machine = `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`

const markdown = `# Reliability

What sluice promises under hostile input and a hostile network, and the figures that back it.
Every figure below was measured by \`node scripts/reliability.mjs${long ? ' --long' : ''}\` (\`pnpm reliability\`), which runs
\`packages/sluice/test/hardening/\` (the \`node: sluice hardening\` suite), \`test/resilience/\` (the
\`node: sluice resilience\` suite), \`packages/sluice-server/test/slow-client.test.ts\`, the whole-stack tests
(\`node: sluice-server stack\`) and \`packages/sluice-server/test/feeds/cluster.test.ts\` (in \`node: sluice-server
feeds\`) against real servers on loopback (127.0.0.1) and writes this file from what the tests recorded. The same tests run with the
same bounds in every \`npm test\`; \`--long\` runs the fuzzing (30,000 cases per property) and the soak
(20,000 faults) longer.

Run: commit ${commit}, ${new Date().toISOString().slice(0, 10)}, ${machine}${long ? ', --long' : ''}.
Tests: ${passed} passed, ${failed} failed, in ${minutes} min. Totals over the table: ${sum('faults').toLocaleString('en-US')} faults injected,
${sum('records').toLocaleString('en-US')} records checked, ${sum('lost')} lost, ${sum('duplicated')} duplicated.

"Memory growth (peak)" is how far memory rose above where the scenario started, at its highest:
the retained heap (after a full GC) where the row says "heap after GC", resident memory (RSS)
where it says RSS. A dash means the scenario does not measure it.

${grouped.map(([title, list]) => `## ${title}\n\n${table(list)}`).join('\n\n')}

## What each guarantees

- **Chaos property and soak**: across cuts at random byte offsets (mid-record too), clean early ends
  without the end marker, 503 and 429 answers (with and without \`Retry-After\`), and servers that replay
  exclusively or inclusively from \`Last-Event-ID\`, the consumer of \`ndjson()\` (with \`idOf\`) and \`sse()\`
  receives every record exactly once and in order, with a schema or without, however slowly it
  consumes. Over thousands of streams the retained heap stays flat, and once a stream ends no timer,
  socket or request it made is left (the server sees every request finished or closed). The same
  holds for 200 streams at once sharing the runtime's connection pool, each under its own faults.
- **Restart**: a server killed with SIGKILL and restarted on the same port mid-stream costs retries,
  never records.
- **Hostile servers**: an endless line (even gzip-compressed) is a final \`LINE_TOO_LONG\` after about
  \`maxLineBytes\` was read, in bounded memory, and the client stops reading so the server cannot push
  more; a million tiny records, or events between heartbeat comments, stream through in flat memory;
  \`retry: 0\` cannot push reconnects below \`minDelayMs\` (measured between requests at the server); a
  redirect loop is a final \`REDIRECT_LOOP\` after fetch's own limit, never retried; a year-long
  \`Retry-After\` (seconds or HTTP-date) is capped by \`maxDelayMs\`; a server that never sends headers is
  a \`CONNECT_TIMEOUT\` per attempt, retried, then final with the attempt count, leaving no connection
  open; an id with CR, LF or NUL never reaches a header, the stream goes on past it, and a later
  sendable id resumes it (with none, a failure is thrown rather than answered with a replay); an id
  beyond Latin-1 (CJK, emoji) is sent as its UTF-8 bytes, as EventSource sends it, and resumes;
  \`__proto__\`, \`constructor\` and \`prototype\` keys pollute no prototype, raw, zod-validated or SSE JSON.
  Malformed HTTP (not HTTP at all, bad chunk framing, a short body, content-length with chunked, a
  broken header line) and oversized headers are a \`NETWORK_ERROR\`, retried, and the stream recovers
  without loss or duplicate; an error body that never ends is read for a 200-character snippet and
  cancelled, and one that never comes costs one connect timeout. A record nested too deep for a
  recursive schema ends the stream with the schema's error: final, never retried as a network error.
- **Leaks and policy**: streams that end, are broken out of or closed leave nothing on a shared
  \`AbortSignal\` and are collected; a signal aborted before the stream starts sends no request; a
  hook that throws is final and its connection released; every reconnection delay lies within
  \`[minDelayMs, maxDelayMs]\` and is a finite number, whatever the policy, the attempt and the
  server's hints (\`Retry-After\` of any size or form, \`retry: 0\`).
- **Fuzzing**: arbitrary bytes (noise, and near-miss NDJSON and SSE) under arbitrary chunkings (bytes
  and strings) and options (JSON, schema, skip, \`requireEnd\`, \`fatal\`), through \`decodeNdjson\`,
  \`decodeSse\`, both TransformStreams and the resilient \`ndjson()\`/\`sse()\`, end in records or in a
  \`SluiceError\` with a \`code\`: never another exception, never a hang (each case bounded at 5 s). Any
  chunking of the same bytes yields the same records and the same error. A line with no end is
  refused with \`LINE_TOO_LONG\` after at most \`maxLineBytes\` plus one chunk was pulled (plus the
  streams' queues for the TransformStreams). Invalid UTF-8 becomes U+FFFD by default, or
  \`ENCODING_ERROR\` with \`fatal: true\`.
- **Server side**: a client that never reads makes sluice-server pull only what fits in the socket
  buffers, and \`writeTimeoutMs\` reaps it and releases the source; a slow reader holds the source to
  its own pace and is not reaped while it reads; many concurrent streams all complete.
  Not covered: a client that reads just often enough to beat \`writeTimeoutMs\` holds its connection
  as long as it likes (as with nginx's \`send_timeout\`); cap connections per client in front of it.
- **Whole stack**: over HTTP/2 each stream keeps the HTTP/1.1 guarantees on its own (a client's
  \`RST_STREAM\` releases the source, through nginx too; the write timeout resets only the stalled
  stream); 12 streams from Chromium to one origin all deliver at once on one connection, where
  HTTP/1.1 makes 6 of them wait; a Postgres cursor streams a table of any size with flat server
  memory, pauses with its reader and ends with its client.
- **Feeds**: with \`redisFeed\`, a client resumes on whichever instance answers: through nginx to three
  instances that cut every stream within 1-3 s, each NDJSON and SSE client receives every record once
  and in order; so too across a \`kill -9\` of the busiest instance, and across a \`kill -9\` of Redis
  with \`appendfsync always\` (restarted on its directory). Without persistence, a Redis restarted
  empty reaches every client as a \`reset\` gap, never as a silent jump into the new history; a
  client away longer than the history gets exactly one \`trimmed\` gap whose \`resumeFrom\` makes
  had + declared missing + delivered = published, and a forged \`Last-Event-ID\` an \`unknown\` one.
`
writeFileSync(join(root, 'RELIABILITY.md'), markdown)
console.log(`\nwrote RELIABILITY.md: ${rows.length} scenarios; ${passed} passed, ${failed} failed in ${minutes} min`)
process.exit(failed > 0 ? 1 : 0)

/**
 * From a database cursor to the client: examples/postgres-cursor.ts, run as its own process against
 * a real PostgreSQL started here (Debian's packages, temp dir, free loopback port), streaming a
 * 1,000,000-row table as NDJSON. Shows: the server's RSS stays flat from the first row to the last;
 * a client that stops reading pauses the cursor; a client that disconnects ends the query within a
 * second; the first row leaves before the table is read (index scan, no sort), 1 k rows or 1 M.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { get, type IncomingMessage } from 'node:http'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { recordFigure } from '../helpers/figures.js'
import { type Postgres, startPostgres } from '../helpers/postgres.js'

const BIG = 1_000_000
const SMALL = 1_000

let pg: Postgres
let sql: postgres.Sql
let app: ChildProcess
let appUrl: string

beforeAll(async () => {
  pg = await startPostgres()
  sql = postgres(pg.url, { max: 2, onnotice: () => undefined })
  for (const [table, rows] of [
    ['readings_1k', SMALL],
    ['readings_1m', BIG],
  ] as const) {
    await sql`create table ${sql(table)} (id int primary key, name text not null, value float8 not null)`
    await sql`insert into ${sql(table)} select g, 'sensor-' || (g % 100), (g::bigint * 7919 % 1000) / 10.0 from generate_series(1, ${rows}) g`
    await sql`vacuum analyze ${sql(table)}`
  }
  // The example as a program of its own, so its RSS is the server's alone.
  const example = fileURLToPath(new URL('../../examples/postgres-cursor.ts', import.meta.url))
  app = spawn(process.execPath, ['--import', 'tsx', '--conditions=sluice-source', example], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, DATABASE_URL: pg.url, PORT: '0', TABLES: 'readings_1k,readings_1m' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  appUrl = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`Cannot start the example: no URL within 30 s:\n${out}`)), 30_000)
    app.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /listening on (\S+)/.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    app.once('exit', (code) => reject(new Error(`Cannot start the example: exited with ${code}:\n${out}`)))
  })
})

afterAll(async () => {
  if (app?.exitCode === null) {
    const exited = new Promise((r) => app.once('exit', r))
    app.kill('SIGKILL')
    await exited
  }
  await sql?.end({ timeout: 1 })
  await pg?.stop()
})

/** The example process's resident set, from /proc (Linux). */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024
}

async function stats(): Promise<{ rowsFetched: number; streamsOpen: number }> {
  return (await (await fetch(`${appUrl}/stats`)).json()) as { rowsFetched: number; streamsOpen: number }
}

/** A GET whose response is handed over paused: nothing is read until the test says so. */
function pausedGet(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      res.pause()
      resolve(res)
    })
    req.on('error', reject)
  })
}

/** Polls `value` until it stops changing for `quietMs` (bounded by `maxMs`); returns the last value. */
async function plateau(value: () => Promise<number>, quietMs: number, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs
  let last = await value()
  let stableSince = Date.now()
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50))
    const now = await value()
    if (now !== last) {
      last = now
      stableSince = Date.now()
    } else if (Date.now() - stableSince >= quietMs) break
  }
  return last
}

/** Backends running a query on `table` (not idle): what pg_stat_activity shows while a cursor is open. */
async function busyBackends(table: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity
    where state <> 'idle' and query like ${`%from "${table}"%`} and pid <> pg_backend_pid()`
  return row!.n
}

test('1,000,000 rows stream in id order as NDJSON while the server RSS stays flat from the first row to the last', async () => {
  const pid = app.pid!
  const started = performance.now()
  const response = await fetch(`${appUrl}/rows?table=readings_1m`)
  expect(response.headers.get('content-type')).toBe('application/x-ndjson')
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let rows = 0
  let nextId = 1
  let partial = ''
  let firstRowMs = 0
  let tail = ''
  /** The server's RSS every 50,000 rows (and at the first row). */
  const rss: Array<{ rows: number; bytes: number }> = []
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    const lines = (partial + decoder.decode(value, { stream: true })).split('\n')
    partial = lines.pop()!
    for (const line of lines) {
      if (line === '' || line.startsWith('{"$sluice"')) {
        tail = line || tail
        continue
      }
      // Checking each id keeps the claim honest (in order, none lost, none doubled) at the cost of
      // one slice per row instead of a JSON.parse.
      const id = Number(line.slice(6, line.indexOf(',')))
      if (id !== nextId) expect.fail(`row ${rows}: id ${id}, expected ${nextId}`)
      nextId++
      rows++
      if (rows === 1) {
        firstRowMs = performance.now() - started
        rss.push({ rows, bytes: rssOf(pid) })
      }
    }
    if (rows - rss.at(-1)!.rows >= 50_000) rss.push({ rows, bytes: rssOf(pid) })
  }
  rss.push({ rows, bytes: rssOf(pid) })
  const totalMs = performance.now() - started
  expect(rows).toBe(BIG)
  expect(JSON.parse(tail)).toEqual({ $sluice: 'end', count: BIG })
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0)
  const peak = (from: number, to: number) =>
    Math.max(...rss.filter((s) => s.rows >= from && s.rows <= to).map((s) => s.bytes))
  const firstHalf = peak(0, BIG / 2)
  const secondHalf = peak(BIG / 2 + 1, BIG)
  const curve = rss.filter((_, i) => i === 0 || i % 4 === 0 || i === rss.length - 1)
  console.log(
    `postgres cursor, 1,000,000 rows: first row ${firstRowMs.toFixed(0)} ms, all in ${(totalMs / 1000).toFixed(1)} s; ` +
      `server RSS MiB by rows: ${curve.map((s) => `${s.rows}: ${mib(s.bytes)}`).join(', ')}; peak ${mib(firstHalf)} in the first half, ${mib(secondHalf)} in the second`,
  )
  recordFigure({
    scenario: 'stack: postgres cursor streamed as NDJSON (1,000,000 rows)',
    cases: 1,
    records: rows,
    lost: 0,
    duplicated: 0,
    detail: `server RSS ${mib(rss[0]!.bytes)} MiB at the first row, peak ${mib(firstHalf)} MiB over the first 500k rows and ${mib(secondHalf)} MiB over the last 500k; all rows in ${(totalMs / 1000).toFixed(1)} s`,
  })
  // Flat: the second half of the table (500k rows, ~23 MB of NDJSON, ~100 MB as row objects) adds
  // nothing the first half did not; what is left is V8's heap breathing between collections.
  expect(secondHalf - firstHalf).toBeLessThan(32 * 2 ** 20)
})

test('a client that stops reading pauses the cursor: rows fetched stop growing, and grow again when it reads', async () => {
  const before = (await stats()).rowsFetched
  const res = await pausedGet(`${appUrl}/rows?table=readings_1m`)
  const fetched = async () => (await stats()).rowsFetched - before
  const paused = await plateau(fetched, 500, 10_000)
  // Socket buffers (a few hundred KiB on loopback) and one batch: thousands of rows, not a million.
  expect(paused).toBeGreaterThan(0)
  expect(paused).toBeLessThan(100_000)
  await new Promise((r) => setTimeout(r, 500))
  expect(await fetched()).toBe(paused) // still paused half a second later
  let read = 0
  res.on('data', (chunk: Buffer) => (read += chunk.length))
  res.resume()
  const deadline = Date.now() + 10_000
  while ((await fetched()) <= paused + 10_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  const resumed = await fetched()
  expect(resumed).toBeGreaterThan(paused + 10_000)
  console.log(
    `postgres cursor, paused client: ${paused} rows fetched, then flat for 500 ms; ${resumed} once it read again`,
  )
  recordFigure({
    scenario: 'stack: postgres cursor, client stops reading',
    cases: 1,
    detail: `${paused} of 1,000,000 rows fetched, flat while paused; fetching resumed when the client read`,
  })
  res.destroy()
  await plateau(async () => (await stats()).streamsOpen, 200, 5_000)
})

test('a client that disconnects ends the query: its backend leaves the active ones in pg_stat_activity within a second', async () => {
  const aborter = new AbortController()
  const response = await fetch(`${appUrl}/rows?table=readings_1m`, { signal: aborter.signal })
  const reader = response.body!.getReader()
  await reader.read() // streaming: the cursor is open
  expect(await busyBackends('readings_1m')).toBe(1)
  const cut = performance.now()
  aborter.abort()
  let busy = 1
  while (busy > 0 && performance.now() - cut < 1_000) {
    await new Promise((r) => setTimeout(r, 20))
    busy = await busyBackends('readings_1m')
  }
  const releasedMs = performance.now() - cut
  expect(busy).toBe(0)
  expect(await plateau(async () => (await stats()).streamsOpen, 100, 2_000)).toBe(0)
  console.log(
    `postgres cursor, disconnected client: the query left pg_stat_activity's active backends ${releasedMs.toFixed(0)} ms after the cut`,
  )
  recordFigure({
    scenario: 'stack: postgres cursor, client disconnects',
    cases: 1,
    detail: `query gone from pg_stat_activity's active backends ${releasedMs.toFixed(0)} ms after the cut (bound 1,000 ms)`,
  })
})

test('the first row leaves before the table is read: an index scan with no sort, 1 k rows or 1 M', async () => {
  for (const table of ['readings_1k', 'readings_1m']) {
    const plan = (await sql.unsafe(`explain select id, name, value from "${table}" where id > 0 order by id`)).map(
      (row) => row['QUERY PLAN'] as string,
    )
    expect(plan.join('\n')).toMatch(/Index Scan/)
    expect(plan.join('\n')).not.toMatch(/Sort/)
  }
  // Time to first row, median of 5 alternating requests each: printed for BENCHMARKS.md, not asserted.
  const firstRow: Record<string, number[]> = { readings_1k: [], readings_1m: [] }
  for (let i = 0; i < 5; i++) {
    for (const table of ['readings_1k', 'readings_1m']) {
      const aborter = new AbortController()
      const started = performance.now()
      const response = await fetch(`${appUrl}/rows?table=${table}`, { signal: aborter.signal })
      const reader = response.body!.getReader()
      let text = ''
      while (!text.includes('\n')) {
        const { done, value } = await reader.read()
        if (done) break
        text += new TextDecoder().decode(value)
      }
      firstRow[table]!.push(performance.now() - started)
      expect(text.startsWith('{"id":1,')).toBe(true)
      aborter.abort()
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const small = median(firstRow['readings_1k']!)
  const big = median(firstRow['readings_1m']!)
  console.log(
    `postgres cursor, time to first row (median of 5): 1 k rows ${small.toFixed(1)} ms, 1 M rows ${big.toFixed(1)} ms`,
  )
  recordFigure({
    scenario: 'stack: postgres cursor, time to first row',
    cases: 10,
    detail: `median of 5: ${small.toFixed(1)} ms for 1 k rows, ${big.toFixed(1)} ms for 1 M rows`,
  })
})

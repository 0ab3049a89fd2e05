import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, test } from 'vitest'
import { z } from 'zod'
import { ndjson } from '../../src/index.js'
import { recordFigure } from '../support/figures.js'

const script = fileURLToPath(new URL('../support/metrics-server.ts', import.meta.url))
const Metric = z.object({ seq: z.number(), rps: z.number(), p99: z.number(), host: z.string() })
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** Starts the metrics API in a child process and resolves once it listens. */
function start(port: number, total: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=sluice-source', '--import', 'tsx', script, String(port), String(total)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  children.push(child)
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`metrics server exited with ${code}`)))
    child.stdout!.on('data', (data: Buffer) => {
      if (data.toString().includes('listening')) resolve(child)
    })
  })
}

test('ndjson() survives the server killed and restarted mid-stream: no gap, no duplicate', async () => {
  const total = 300
  const port = await freePort()
  let server = await start(port, total)
  const seen: number[] = []
  let restarted = false
  let retries = 0
  const stream = ndjson(`http://127.0.0.1:${port}/metrics`, {
    schema: Metric,
    idOf: (m) => m.seq,
    retry: { initialDelayMs: 50, maxDelayMs: 200, maxAttempts: 100 },
    onRetry: () => retries++,
  })
  for await (const m of stream) {
    seen.push(m.seq)
    if (m.seq === 100 && !restarted) {
      restarted = true
      process.kill(server.pid!, 'SIGKILL') // no goodbye: the socket just dies
      server = await new Promise<ChildProcess>((resolve) => {
        // Restart once the old process is gone, on the same port, while the client retries.
        children[0]!.once('exit', () => resolve(start(port, total)))
      })
    }
  }
  expect(restarted).toBe(true)
  expect(retries).toBeGreaterThan(0)
  expect(stream.counters.reconnects).toBeGreaterThan(0)
  expect(seen).toEqual(Array.from({ length: total }, (_, i) => i))
  recordFigure({
    scenario: 'server process killed (SIGKILL) and restarted mid-stream',
    cases: 1,
    faults: 1,
    records: seen.length,
    lost: total - new Set(seen).size,
    duplicated: seen.length - new Set(seen).size,
    detail: `${retries} retries while it was down`,
  })
}, 30_000)

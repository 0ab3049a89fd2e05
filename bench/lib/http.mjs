/**
 * Memory and latency over loopback HTTP: one producer child process (`server.mjs`) and, per
 * measurement, a fresh consumer child process (`consumer.mjs`) whose peak RSS is its own.
 *
 * @module
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const here = (name) => fileURLToPath(new URL(name, import.meta.url))

/** Starts the producer; resolves to `{ url, stop }`. */
export async function startServer() {
  const child = spawn(process.execPath, [here('./server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const [first] = await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`benchmark server exited with ${code} before listening`)
    }),
  ])
  const { port } = JSON.parse(first)
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** Runs one consumer child process to completion; resolves to its JSON report. */
async function consume(mode, url, { timeoutMs = 300_000 } = {}) {
  const child = spawn(process.execPath, [here('./consumer.mjs'), mode, url], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const [code, signal] = await once(child, 'exit')
  clearTimeout(timer)
  const line = stdout.trim().split('\n').pop()
  if (!line) throw new Error(`consumer ${mode} exited (${code ?? signal}) without a report: ${stderr.slice(-2000)}`)
  return { ...JSON.parse(line), exitCode: code, signal }
}

/**
 * Peak RSS of consumers: one fresh process per `{ mode, size }` run, in the order given.
 * The store-and-forward mode is expected to fail at sizes past V8's string limit: reported, not thrown.
 */
export async function runMemory({ url, runs, log }) {
  const results = []
  for (const { size, mode } of runs) {
    {
      const report = await consume(mode, `${url}/ndjson?bytes=${size}&seed=7`)
      if (mode !== 'text' && report.error) throw new Error(`memory ${mode} at ${size} B failed: ${report.error}`)
      // Records carry seq 0..n-1: a consumer that parsed them all has summed n(n-1)/2.
      if (mode !== 'bare' && !report.error && report.checksum !== (report.records * (report.records - 1)) / 2) {
        throw new Error(
          `memory ${mode} at ${size} B lost records: ${report.records} records, checksum ${report.checksum}`,
        )
      }
      log(
        `  memory ${mode} ${size} B: peak RSS ${(report.maxRss / 2 ** 20).toFixed(1)} MiB in ${(report.ms / 1000).toFixed(1)} s` +
          (report.error ? ` (failed: ${report.error})` : ''),
      )
      results.push({ mode, size, ...report })
    }
  }
  return results
}

/** Per-record delivery latency for each consumer mode, one run per mode over the same schedule. */
export async function runLatency({ url, count, intervalMs, discard, modes, log }) {
  const results = []
  for (const mode of modes) {
    const report = await consume(mode, `${url}/latency?count=${count}&intervalMs=${intervalMs}`)
    if (report.error) throw new Error(`latency ${mode} failed: ${report.error}`)
    if (report.records !== count) throw new Error(`latency ${mode} got ${report.records} of ${count} records`)
    const latencies = report.latenciesMs.slice(discard)
    log(`  latency ${mode}: ${latencies.length} records`)
    results.push({ mode, count, intervalMs, discard, latencies, maxRss: report.maxRss })
  }
  return results
}

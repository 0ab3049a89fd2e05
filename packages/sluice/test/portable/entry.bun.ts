/**
 * Runs the portable suite under `bun test`, against the built package (`sluice` resolves through
 * package.json `exports` to dist/). Started by scripts/run-portable.mjs, which passes the fixture
 * server's URL in SLUICE_FIXTURE_URL.
 */
import { test } from 'bun:test'
import './all.js'
import { runnable, runtime } from './harness.js'

/** The part of the Bun global this entry uses, typed locally so `tsc` needs no Bun types. */
interface BunApi {
  env: Record<string, string | undefined>
  serve(options: { hostname: string; port: number; fetch: (request: Request) => Response | Promise<Response> }): {
    port: number
    stop(closeActiveConnections?: boolean): Promise<void>
  }
}
const Bun = (globalThis as unknown as { Bun: BunApi }).Bun

runtime.name = 'bun'
runtime.serverUrl = Bun.env['SLUICE_FIXTURE_URL']
runtime.serve = async (handler) => {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: handler })
  return { url: `http://127.0.0.1:${server.port}/`, close: () => server.stop(true) }
}

for (const t of runnable()) test(t.name, t.fn, 20_000)

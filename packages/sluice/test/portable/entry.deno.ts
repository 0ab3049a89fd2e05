/**
 * Runs the portable suite under `deno test`, against the built package (`sluice` resolves through
 * package.json `exports` to dist/, as `npm:sluice` would). Started by scripts/run-portable.mjs,
 * which passes the fixture server's URL in SLUICE_FIXTURE_URL.
 */
import './all.js'
import { runnable, runtime } from './harness.js'

/** The part of the Deno namespace this entry uses, typed locally so `tsc` needs no Deno types. */
interface DenoApi {
  env: { get(name: string): string | undefined }
  test(options: { name: string; fn: () => Promise<void> | void }): void
  serve(
    options: { hostname: string; port: number; onListen?: () => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void>; finished: Promise<void> }
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno

runtime.name = 'deno'
runtime.serverUrl = Deno.env.get('SLUICE_FIXTURE_URL')
runtime.serve = async (handler) => {
  const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen() {} }, handler)
  return { url: `http://127.0.0.1:${server.addr.port}/`, close: () => server.shutdown() }
}

for (const t of runnable()) Deno.test({ name: t.name, fn: t.fn })

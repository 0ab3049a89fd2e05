/**
 * Runs the portable suite under vitest, in Node (project `node`) and in Chromium (project
 * `chromium`, browser mode): see `vitest.portable.config.ts`. In Node, sluice-server's `node:http`
 * adapter is the runtime's server; a page has none, so the `serve` tests are not registered there.
 */
import { inject, test } from 'vitest'
import './all.js'
import { runnable, runtime } from './harness.js'

runtime.name = typeof document === 'undefined' ? 'node' : 'chromium'
runtime.serverUrl = inject('fixtureUrl')
if (runtime.name === 'node') {
  // Imported only in Node: the page never requests this module (it needs node:http).
  const { serve } = await import('../../../sluice-server/src/node.js')
  runtime.serve = async (handler) => {
    const server = await serve(handler)
    return { url: `${server.url}/`, close: () => server.close() }
  }
}

for (const t of runnable()) test(t.name, t.fn)

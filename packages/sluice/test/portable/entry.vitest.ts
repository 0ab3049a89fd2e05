/**
 * Runs the portable suite under vitest, in Node (project `node`) and in Chromium (project
 * `chromium`, browser mode): see `vitest.portable.config.ts`.
 */
import { inject, test } from 'vitest'
import './all.js'
import { runnable, runtime } from './harness.js'

runtime.name = typeof document === 'undefined' ? 'node' : 'chromium'
runtime.serverUrl = inject('fixtureUrl')

for (const t of runnable()) test(t.name, t.fn)

/**
 * The page each tab of the tabs suite opens: one shared store over `/stream`, on `window.__tabs`.
 * Bundled with esbuild by tabs.test.ts and served by live-server.ts from one origin.
 */
import { ndjson } from '../../src/index.js'
import { createStore } from '../../src/store.js'

interface Rec {
  seq: number
}

const store = createStore(
  ({ lastEventId }) =>
    ndjson<Rec>('/stream?rate=100', {
      idOf: (r) => r.seq,
      lastEventId,
      retry: { initialDelayMs: 50, maxDelayMs: 200 },
    }),
  { initial: [] as number[], reduce: (ids, record) => [...ids, record.seq], key: 'tabs-suite', shareAcrossTabs: true },
)
const tabs = { store, notifications: 0 }
store.subscribe(() => tabs.notifications++)
;(window as unknown as { __tabs: typeof tabs }).__tabs = tabs
document.body.dataset.ready = 'true'

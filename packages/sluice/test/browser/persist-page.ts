/**
 * The page of persist.test.ts: an endless NDJSON series read with `persist`; the page logs each
 * record's seq in sessionStorage (`log`), written as it is delivered, so the log outlives a reload.
 */
import { ndjson } from '../../src/index.js'

const stream = ndjson<{ seq: number }>('/stream?rate=40', { idOf: (r) => r.seq, persist: { key: 'ticks' } })
document.body.dataset['ready'] = 'true'
for await (const record of stream) sessionStorage.setItem('log', `${sessionStorage.getItem('log') ?? ''}${record.seq},`)

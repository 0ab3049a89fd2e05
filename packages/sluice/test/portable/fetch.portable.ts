/**
 * The decoders over a real `fetch` from the loopback fixture server (`fixture-server.mjs`), in
 * each runtime's own HTTP stack: chunks as the network cuts them, truncation, and cancellation
 * that reaches the server.
 */
import { decodeNdjson, decodeSse } from 'sluice'
import { collect, eventually, expect, expectError, serverUrl, test } from './harness.js'

interface Tick {
  seq: number
  text: string
}

const ticks = (n: number): Tick[] => Array.from({ length: n }, (_, i) => ({ seq: i + 1, text: `café #${i + 1}` }))

test('fetch: ndjson decodes a real response, checking the end trailer count', async () => {
  const response = await fetch(serverUrl('stream?format=ndjson&n=300'))
  expect(response.headers.get('content-type'), 'content type').toBe('application/x-ndjson')
  expect(await collect(decodeNdjson<Tick>(response, { requireEnd: true }))).toEqual(ticks(300))
}, ['server'])

test('fetch: sse decodes a real response body with ids, JSON data and the end event', async () => {
  const response = await fetch(serverUrl('stream?format=sse&n=200'))
  const events = await collect(decodeSse<Tick>(response.body!, { json: true, requireEnd: true }))
  expect(events).toEqual(ticks(200).map((t) => ({ event: 'message', data: t, id: String(t.seq) })))
}, ['server'])

test('fetch: ndjson raises TRUNCATED_STREAM when the response ends inside a record', async () => {
  const got: unknown[] = []
  await expectError(
    async () => {
      for await (const record of decodeNdjson(await fetch(serverUrl('cut?format=ndjson&n=5')))) got.push(record)
    },
    { code: 'TRUNCATED_STREAM', reason: 'partial-record', received: 5, line: 6 },
  )
  expect(got).toEqual(ticks(5))
}, ['server'])

test('fetch: sse raises TRUNCATED_STREAM when the response ends inside an event', async () => {
  const response = await fetch(serverUrl('cut?format=sse&n=3'))
  await expectError(() => collect(decodeSse(response, { json: true })), {
    code: 'TRUNCATED_STREAM',
    reason: 'partial-record',
    received: 3,
  })
}, ['server'])

test('fetch: requireEnd turns a response that ends cleanly without the marker into TRUNCATED_STREAM', async () => {
  const ndjson = await fetch(serverUrl('unended?format=ndjson&n=4'))
  await expectError(() => collect(decodeNdjson(ndjson, { requireEnd: true })), {
    code: 'TRUNCATED_STREAM',
    reason: 'missing-end',
    received: 4,
  })
  const sse = await fetch(serverUrl('unended?format=sse&n=4'))
  await expectError(() => collect(decodeSse(sse, { requireEnd: true })), {
    code: 'TRUNCATED_STREAM',
    reason: 'missing-end',
    received: 4,
  })
}, ['server'])

/** A fresh id for an endless stream, so the server can say whether that one connection was closed. */
const streamId = () => Math.random().toString(36).slice(2)

async function serverSawClose(id: string): Promise<boolean> {
  const state = (await (await fetch(serverUrl(`closed?id=${id}`))).json()) as { known: boolean; closed: boolean }
  return state.known && state.closed
}

test('fetch: leaving for-await early cancels the response, and the server sees the connection close', async () => {
  for (const format of ['ndjson', 'sse'] as const) {
    const id = streamId()
    const response = await fetch(serverUrl(`endless?format=${format}&id=${id}`))
    const records = format === 'sse' ? decodeSse(response) : decodeNdjson(response)
    let n = 0
    for await (const _ of records) if (++n === 5) break
    expect(n, `${format} records`).toBe(5)
    await eventually(() => serverSawClose(id), `the server to see the ${format} stream closed`)
  }
}, ['server'])

test('fetch: aborting the signal mid-stream rejects with the reason and closes the connection', async () => {
  const id = streamId()
  const controller = new AbortController()
  const response = await fetch(serverUrl(`endless?format=ndjson&id=${id}`), { signal: controller.signal })
  const reason = new Error('stop now')
  let n = 0
  await expectError(
    async () => {
      for await (const _ of decodeNdjson(response, { signal: controller.signal }))
        if (++n === 3) controller.abort(reason)
    },
    { message: 'stop now' },
  )
  expect(n, 'records before abort').toBe(3)
  await eventually(() => serverSawClose(id), 'the server to see the stream closed')
}, ['server'])

/**
 * sluice-server's `ndjsonResponse` and `sseResponse` served by the runtime's own HTTP server
 * (`Deno.serve`, `Bun.serve`: see the entries), read back by the sluice client in that runtime.
 * Registered only where the entry offers `runtime.serve`.
 */
import { decodeNdjson, ndjson, sse } from 'sluice'
// sluice-server from source: Deno and Bun run TypeScript, and no build is needed.
import { lastEventId, ndjsonResponse, sseResponse } from '../../../sluice-server/src/index.js'
import { collect, eventually, expect, fail, runtime, type Served, test } from './harness.js'

interface Tick {
  seq: number
}

const ticks = (from: number, to: number): Tick[] => Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i }))

async function serving(
  handler: (request: Request) => Response | Promise<Response>,
  body: (url: string) => Promise<void>,
) {
  if (!runtime.serve) fail('this runtime offers no server')
  const server: Served = await runtime.serve(handler)
  try {
    await body(server.url)
  } finally {
    await server.close()
  }
}

test(
  'serve: ndjsonResponse from the runtime server is read by ndjson() with the end trailer',
  () =>
    serving(
      () => {
        async function* records() {
          for (let seq = 1; seq <= 50; seq++) yield { seq }
        }
        return ndjsonResponse(records(), { heartbeatMs: 0 })
      },
      async (url) => {
        const response = await fetch(url)
        expect(response.headers.get('content-type'), 'content type').toBe('application/x-ndjson')
        expect(await collect(decodeNdjson<Tick>(response, { requireEnd: true }))).toEqual(ticks(1, 50))
      },
    ),
  ['serve'],
)

test('serve: sseResponse from the runtime server resumes from Last-Event-ID after the client leaves mid-stream', () => {
  const released: number[] = []
  return serving(
    (request) => {
      const from = Number(lastEventId(request) ?? 0) + 1
      async function* events() {
        try {
          for (let seq = from; seq <= 20; seq++) yield { data: { seq }, id: seq }
        } finally {
          released.push(from)
        }
      }
      return sseResponse(events(), { heartbeatMs: 0 })
    },
    async (url) => {
      const first: Tick[] = []
      const opening = sse<Tick>(url, { json: true })
      for await (const event of opening) {
        first.push(event.data)
        if (first.length === 7) break
      }
      expect(opening.lastEventId, 'resume position').toBe('7')
      const rest = await collect(sse<Tick>(url, { json: true, lastEventId: opening.lastEventId }))
      expect([...first, ...rest.map((e) => e.data)]).toEqual(ticks(1, 20))
      // The first response's generator runs its finally when the client leaves, the second's at its end.
      await eventually(() => released.length === 2, 'both sources to be released')
      expect(
        released.sort((a, b) => a - b),
        'sources released',
      ).toEqual([1, 8])
    },
  )
}, ['serve'])

test(
  'serve: ndjson() follows a runtime server that sends heartbeats between slow records',
  () =>
    serving(
      () => {
        async function* slow() {
          for (let seq = 1; seq <= 3; seq++) {
            await new Promise((resolve) => setTimeout(resolve, 30))
            yield { seq }
          }
        }
        return ndjsonResponse(slow(), { heartbeatMs: 5 })
      },
      async (url) => {
        const stream = ndjson<Tick>(url, { idOf: (t) => t.seq, requireEnd: true })
        expect(await collect(stream)).toEqual(ticks(1, 3))
        expect(stream.counters.reconnects, 'reconnects').toBe(0)
      },
    ),
  ['serve'],
)

/**
 * A loopback server that plays a script of records, some of them invalid, with a step per request
 * (a cut, a stall, a status, a redirect), for the tests of invalid records across reconnects and of
 * the stream's states. Its requests' `Last-Event-ID`s and open responses are there to check.
 */
import type { ServerResponse } from 'node:http'
import { z } from 'zod'
import { ndjson, type RecordStream, sse } from '../../src/index.js'
import { listen, urlOf } from './loopback.js'
import { fast } from './streams.js'

/**
 * What request n gets: `ok` (all items, then the end), `{ cut: k }` (k items, then the socket is
 * destroyed), `stall` (all items, then the connection stays open), `redirect`, or a status.
 */
export type Step = { cut: number } | 'ok' | 'stall' | 'redirect' | number

/**
 * Serves `items` (a number is a valid record with that seq, `'bad'` an invalid one at its index)
 * from after Last-Event-ID (or from it, `inclusive`), as NDJSON or SSE with ids; request n does
 * `plan(n)`. Closed when the test finishes.
 */
export async function scripted(
  format: 'ndjson' | 'sse',
  items: (number | 'bad')[],
  plan: (n: number) => Step,
  inclusive = false,
) {
  const lastEventIds: (string | undefined)[] = []
  const responses = new Set<ServerResponse>()
  const server = await listen((request, response: ServerResponse) => {
    responses.add(response)
    response.on('close', () => responses.delete(response))
    const step = plan(lastEventIds.length)
    const lei = request.headers['last-event-id'] as string | undefined
    lastEventIds.push(lei)
    if (step === 'redirect') return void response.writeHead(302, { location: '/elsewhere' }).end()
    if (typeof step === 'number') return void response.writeHead(step, { 'content-type': 'text/plain' }).end('no')
    const from = lei === undefined ? 0 : Number(lei) + (inclusive ? 0 : 1)
    const chosen = items.map((item, index) => [item, index] as const).slice(from)
    const shown = typeof step === 'object' ? chosen.slice(0, step.cut) : chosen
    const text = shown
      .map(([item, index]) => {
        const json = item === 'bad' ? `{"seq":"${index}"}` : `{"seq":${item}}`
        return format === 'ndjson' ? `${json}\n` : `id: ${index}\ndata: ${json}\n\n`
      })
      .join('')
    response.writeHead(200, { 'content-type': format === 'ndjson' ? 'application/x-ndjson' : 'text/event-stream' })
    if (typeof step === 'object') return void response.write(text, () => response.socket?.destroy())
    if (step === 'stall') return void response.write(text)
    response.end(format === 'ndjson' ? text : `${text}event: end\ndata:\n\n`)
  })
  return { url: `${urlOf(server)}s`, lastEventIds, responses }
}

export const Seq = z.object({ seq: z.number() })

/** ndjson() (resumable by `seq`) or sse() of a script's records, invalid ones skipped, fast retries without jitter. */
export function openScripted(
  format: 'ndjson' | 'sse',
  url: string,
  extra: Record<string, unknown> = {},
): RecordStream<unknown> {
  const retry = { ...fast, jitter: false }
  return format === 'ndjson'
    ? ndjson(url, { schema: Seq, onInvalid: 'skip', idOf: (r) => r.seq, retry, ...extra })
    : sse(url, { schema: Seq, onInvalid: 'skip', retry, ...extra })
}

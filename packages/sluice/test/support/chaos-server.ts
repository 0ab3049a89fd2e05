/**
 * A real HTTP server on loopback that streams a deterministic sequence of records as NDJSON or
 * SSE, honours `Last-Event-ID`, and misbehaves on demand: cuts the connection at a byte offset,
 * stalls, answers an error status, the wrong content type or 204, or ends early without the marker.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ndjsonResponse, sseResponse } from 'sluice-server'
import { onTestFinished } from 'vitest'
import { z } from 'zod'
import { ndjson, type RecordStream, sse } from '../../src/index.js'
import { startLoopback } from './loopback.js'
import { fast } from './streams.js'

export type Fault =
  | { kind: 'ok' }
  /** Write this many body bytes, then destroy the socket (a cut connection, mid-record or not). */
  | { kind: 'cut'; atByte: number }
  /** Write this many body bytes, then end the response cleanly without the end marker. */
  | { kind: 'end-early'; atByte: number }
  /** Send this many records, then nothing more (but heartbeats, if `heartbeatMs`). */
  | { kind: 'stall'; afterRecords: number; heartbeatMs?: number }
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'wrong-type' }
  | { kind: 'no-content' }
  /** Accept the connection but never send headers. */
  | { kind: 'no-headers' }

export type Format = 'ndjson' | 'sse'

export interface ChaosOptions {
  format: Format
  /** Records in the whole sequence. */
  total: number
  /** The fault for the n-th request (0-based); `ok` once the plan runs out. */
  plan: (request: number) => Fault
  /** Replay the record named by Last-Event-ID too (an inclusive replay). */
  inclusive?: boolean
  /** SSE: the `retry:` the server sends at the start of each stream. */
  retryMs?: number
  /** Keep a log entry (headers included) per request. Default `true`; a soak turns it off so its heap measures the client only. */
  keepLog?: boolean
}

interface RequestLog {
  lastEventId: string | undefined
  headers: IncomingMessage['headers']
}

export interface ChaosServer {
  url: string
  /** One entry per request (empty with `keepLog: false`). */
  requests: RequestLog[]
  /** Requests served so far. */
  served(): number
  /** Requests whose response has neither finished nor lost its connection: a client that walked away without closing shows here. */
  inFlight(): number
  close(): Promise<void>
}

function record(seq: number) {
  return { seq, name: `rec-${seq}`, text: seq % 3 === 0 ? 'héllo wörld ✓ 🚀' : 'plain', tags: [seq % 5, 'x'] }
}

/** The stream sluice-server produces for records `from` .. `total - 1` (with the end marker). */
function responseFor(
  format: Format,
  from: number,
  total: number,
  options: { heartbeatMs?: number; stallAfter?: number; retryMs?: number } = {},
): Response {
  async function* records() {
    for (let seq = from; seq < total; seq++) {
      if (options.stallAfter !== undefined && seq - from >= options.stallAfter) await new Promise(() => {})
      yield record(seq)
    }
  }
  const heartbeatMs = options.heartbeatMs ?? 0
  return format === 'ndjson'
    ? ndjsonResponse(records(), { heartbeatMs })
    : sseResponse(
        (async function* () {
          for await (const r of records()) yield { id: r.seq, data: r }
        })(),
        { heartbeatMs, ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}) },
      )
}

/** The whole body for records `from` .. `total - 1`, as the wire carries it. */
export async function bodyFor(format: Format, from: number, total: number): Promise<string> {
  return responseFor(format, from, total).text()
}

/** The byte offset where record `seq` starts in the body of `total` records (bodies hold multi-byte text). */
export async function recordStart(format: Format, total: number, seq: number): Promise<number> {
  const body = await bodyFor(format, 0, total)
  return Buffer.byteLength(body.slice(0, body.indexOf(format === 'ndjson' ? `{"seq":${seq},` : `id: ${seq}\n`)))
}

/** A chaos server for the running test (closed when it finishes): request n meets `faults[n]`, then `ok`. */
export async function chaos(
  format: Format,
  total: number,
  faults: Fault[] = [],
  options: Pick<ChaosOptions, 'inclusive' | 'retryMs'> = {},
): Promise<ChaosServer> {
  const server = await startChaosServer({ format, total, plan: (n) => faults[n] ?? { kind: 'ok' }, ...options })
  onTestFinished(() => server.close())
  return server
}

/** The records a chaos server sends. */
const ChaosRecord = z.object({ seq: z.number(), name: z.string(), text: z.string(), tags: z.array(z.unknown()) })

/** ndjson() (resumable by `seq`) or sse() of a chaos server's records, with fast retries; `seqs` reads either. */
export function openChaos(format: Format, url: string, extra: Record<string, unknown> = {}): RecordStream<unknown> {
  return format === 'ndjson'
    ? ndjson(url, { schema: ChaosRecord, idOf: (r) => r.seq, retry: fast, ...extra })
    : sse(url, { schema: ChaosRecord, retry: fast, ...extra })
}

/** A chaos server the caller closes (a soak's or a property's many servers). */
export async function startChaosServer(options: ChaosOptions): Promise<ChaosServer> {
  const requests: RequestLog[] = []
  let served = 0
  let inFlight = 0
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const loopback = await startLoopback((request, response) => {
    const index = served++
    inFlight++
    response.once('close', () => inFlight--)
    const lastEventId = header(request, 'last-event-id')
    if (options.keepLog !== false) requests.push({ lastEventId, headers: request.headers })
    handle(options, options.plan(index), lastEventId, response, timers)
  })
  return {
    url: `${loopback.url}stream`,
    requests,
    served: () => served,
    inFlight: () => inFlight,
    close: async () => {
      for (const timer of timers) clearInterval(timer)
      await loopback.close()
    },
  }
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function handle(
  options: ChaosOptions,
  fault: Fault,
  lastEventId: string | undefined,
  response: ServerResponse,
  _timers: Set<ReturnType<typeof setTimeout>>,
): void {
  switch (fault.kind) {
    case 'status':
      response.writeHead(fault.status, {
        'content-type': 'text/plain',
        ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}),
      })
      response.end(fault.body ?? `status ${fault.status}`)
      return
    case 'wrong-type':
      response.writeHead(200, { 'content-type': 'text/html' })
      response.end('<html>login</html>')
      return
    case 'no-content':
      response.writeHead(204)
      response.end()
      return
    case 'no-headers':
      return // the socket stays open until the client gives up or the server closes
  }
  const resumeAt = lastEventId === undefined ? 0 : Number(lastEventId) + (options.inclusive ? 0 : 1)
  if (fault.kind === 'stall') {
    // sluice-server itself: the source stops yielding; heartbeats (if any) keep the connection busy.
    const stalled = responseFor(options.format, resumeAt, options.total, {
      stallAfter: fault.afterRecords,
      ...(fault.heartbeatMs !== undefined ? { heartbeatMs: fault.heartbeatMs } : {}),
    })
    void pipe(stalled, response, Infinity, 'ok')
    return
  }
  const produced = responseFor(options.format, resumeAt, options.total, {
    ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}),
  })
  void pipe(produced, response, fault.kind === 'ok' ? Infinity : fault.atByte, fault.kind)
}

/** Copies a WHATWG response to node:http, stopping after `limit` bytes with a cut or a clean end. */
async function pipe(
  source: Response,
  response: ServerResponse,
  limit: number,
  how: 'ok' | 'cut' | 'end-early',
): Promise<void> {
  const headers: Record<string, string> = {}
  source.headers.forEach((value, key) => (headers[key] = value))
  response.writeHead(source.status, headers)
  response.flushHeaders()
  const reader = source.body!.getReader()
  response.on('close', () => void reader.cancel().catch(() => {}))
  let sent = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      const room = limit - sent
      if (value.length >= room) {
        const head = value.subarray(0, room)
        await reader.cancel()
        if (how === 'cut') {
          // Let the bytes leave before the socket goes, so the cut lands where asked.
          response.write(head, () => response.socket?.destroy())
        } else {
          response.end(head)
        }
        return
      }
      sent += value.length
      if (!response.write(value)) await new Promise((resolve) => response.once('drain', resolve))
    }
    response.end()
  } catch {
    response.socket?.destroy()
  }
}

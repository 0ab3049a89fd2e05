/**
 * Loopback servers written with sluice-server that reproduce the wire formats of real streaming APIs,
 * each able to cut its first connection mid-stream and resume a later one from `Last-Event-ID`:
 *
 * - OpenAI-style chat completions: a POST, `data: {...chunk}` events with no event name, then the
 *   sentinel `data: [DONE]` (no sluice end event).
 * - Anthropic-style messages: a POST, named events `message_start`, `content_block_start`,
 *   `content_block_delta`, `content_block_stop`, `message_delta`, `message_stop`, with `ping`s in
 *   between and, when asked, an `error` event (`overloaded_error`) mid-stream.
 *
 * The real APIs send no `id:` fields; these add them (as an LLM gateway that makes generations
 * resumable does), keyed by an `Idempotency-Key` header, so a re-sent POST continues the same
 * generation instead of starting a new one.
 */

import { lastEventId, sseResponse } from 'sluice-server'
import { serveForTest } from './loopback.js'

/** What a server saw: each request's method, path, Last-Event-ID and idempotency key. */
interface Seen {
  method: string
  path: string
  lastEventId: string | undefined
  key: string | null
}

export interface LlmServer {
  url: string
  requests: Seen[]
  /** The whole text every generation produces. */
  text: string
}

/** The tokens of the answer: `words` words, deterministic. */
function tokensOf(words: number): string[] {
  return Array.from({ length: words }, (_, i) => `${i === 0 ? '' : ' '}w${i}`)
}

interface Options {
  /** Tokens in the answer. Default 12. */
  words?: number
  /**
   * The first connection fails right after the event with this id, once `cutWhen` settles (the test
   * resolves it when the client has that event, so the cut point is exact; without it, whatever the
   * socket had not flushed is lost with the connection).
   */
  cutAfter?: number
  cutWhen?: Promise<unknown>
}

/** Serves `handler`, logging requests; `first` is true for the first request only (the one a cut applies to). */
async function start(
  handler: (request: Request, from: number, first: boolean) => Response | Promise<Response>,
): Promise<Seen[] & { url: string }> {
  const requests: Seen[] = []
  const server = await serveForTest(
    async (request) => {
      const seen: Seen = {
        method: request.method,
        path: new URL(request.url).pathname,
        lastEventId: lastEventId(request),
        key: request.headers.get('idempotency-key'),
      }
      requests.push(seen)
      const from = seen.lastEventId === undefined ? 0 : Number(seen.lastEventId) + 1
      return handler(request, from, requests.length === 1)
    },
    { onError: () => {} },
  )
  return Object.assign(requests, { url: server.url })
}

/** Yields `items` from index `from`, failing (a cut connection) right after index `cut` once `when` settles. */
async function* fromWithCut<T>(
  items: T[],
  from: number,
  cut: number | undefined,
  when?: Promise<unknown>,
): AsyncGenerator<T> {
  for (let i = from; i < items.length; i++) {
    yield items[i]!
    if (i === cut) {
      await when
      throw new Error('connection cut by the test server')
    }
  }
}

/** An OpenAI-style chat completion stream at `POST /v1/chat/completions`. */
export async function openaiStyleServer(options: Options = {}): Promise<LlmServer> {
  const tokens = tokensOf(options.words ?? 12)
  const chunk = (delta: object, finish: string | null) => ({
    id: 'chatcmpl-7',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-style',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  })
  const events = [
    chunk({ role: 'assistant', content: '' }, null),
    ...tokens.map((content) => chunk({ content }, null)),
    chunk({}, 'stop'),
  ].map((data, id) => ({ id, data }))
  const requests = await start(async (request, from, first) => {
    await request.text()
    async function* body() {
      yield* fromWithCut(events, from, first ? options.cutAfter : undefined, options.cutWhen)
      // The sentinel: a plain string is sent as is, `data: [DONE]`, with no id.
      yield { data: '[DONE]' }
    }
    return sseResponse(body(), { end: false, heartbeatMs: 0 })
  })
  return { url: `${requests.url}/v1/chat/completions`, requests, text: tokens.join('') }
}

/** A promise and its resolve (Node 20 has no `Promise.withResolvers`). */
export function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

/**
 * An agent-style run: `POST /v1/runs` starts it (the answer's `Location` header names the run) and
 * streams its events; `GET /v1/runs/:id/stream?offset=N` streams the events after offset `N`, as
 * many times as asked. Events carry `id: <offset>` and end with the sluice end event.
 */
export async function agentStyleServer(options: Options = {}): Promise<LlmServer> {
  const tokens = tokensOf(options.words ?? 10)
  const events = [
    { type: 'run_started', run: 'run_1' },
    { type: 'step', name: 'search', input: 'weather' },
    ...tokens.map((text) => ({ type: 'message_delta', text })),
    { type: 'run_completed', usage: { tokens: tokens.length } },
  ].map((data, id) => ({ event: data.type, id, data }))
  const requests = await start(async (request, _from, first) => {
    const url = new URL(request.url)
    if (request.method === 'POST' && url.pathname === '/v1/runs') {
      await request.text()
      const body = sseResponse(fromWithCut(events, 0, first ? options.cutAfter : undefined, options.cutWhen), {
        heartbeatMs: 0,
      })
      body.headers.set('location', '/v1/runs/run_1/stream')
      return body
    }
    const match = /^\/v1\/runs\/(\w+)\/stream$/.exec(url.pathname)
    if (request.method !== 'GET' || match?.[1] !== 'run_1') return new Response('no such run', { status: 404 })
    const offset = Number(url.searchParams.get('offset') ?? -1)
    return sseResponse(fromWithCut(events, offset + 1, undefined), { heartbeatMs: 0 })
  })
  return { url: requests.url, requests, text: tokens.join('') }
}

/** The events of an Anthropic-style messages stream answering with `tokens`, a ping every `pingEvery` deltas. */
function anthropicEvents(
  tokens: string[],
  pingEvery = 3,
  errorAfter?: number,
): Array<{ event: string; data: unknown }> {
  const events: Array<{ event: string; data: unknown }> = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          id: 'msg_01',
          type: 'message',
          role: 'assistant',
          content: [],
          model: 'claude-style',
          stop_reason: null,
          usage: { input_tokens: 12, output_tokens: 1 },
        },
      },
    },
    {
      event: 'content_block_start',
      data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    },
    { event: 'ping', data: { type: 'ping' } },
  ]
  tokens.forEach((text, i) => {
    if (errorAfter === i)
      events.push({
        event: 'error',
        data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      })
    events.push({
      event: 'content_block_delta',
      data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
    })
    if ((i + 1) % pingEvery === 0) events.push({ event: 'ping', data: { type: 'ping' } })
  })
  events.push(
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: tokens.length },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  )
  return events
}

/**
 * An Anthropic-style messages stream at `POST /v1/messages`. With `errorAfter`, an `error` event
 * (`overloaded_error`) comes before that delta and the stream ends there, as the API does.
 */
export async function anthropicStyleServer(options: Options & { errorAfter?: number } = {}): Promise<LlmServer> {
  const tokens = tokensOf(options.words ?? 12)
  let events = anthropicEvents(tokens, 3, options.errorAfter)
  const errorAt = events.findIndex((e) => e.event === 'error')
  if (errorAt !== -1) events = events.slice(0, errorAt + 1)
  const withIds = events.map((e, id) => ({ ...e, id }))
  const requests = await start(async (request, from, first) => {
    await request.text()
    return sseResponse(fromWithCut(withIds, from, first ? options.cutAfter : undefined, options.cutWhen), {
      end: false,
      heartbeatMs: 0,
    })
  })
  return { url: `${requests.url}/v1/messages`, requests, text: tokens.join('') }
}

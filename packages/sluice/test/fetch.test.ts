/**
 * `ndjson()` / `sse()` (fetch.ts: the reconnect loop): what it resumes from, what it retries and
 * what it throws, invalid records and replays across reconnects, hiding the page, `resume` and
 * `shouldRetry`; each behaviour over a real loopback server (node:http, sluice-server for the
 * streams): no mocked fetch. One attempt's request and response checks: connect.test.ts; the idle
 * and stall timers: watch.test.ts; the offline wait: wait.test.ts; the returned stream's counters,
 * states, hooks and close(): record-stream.test.ts.
 */
import { ndjsonResponse } from 'sluice-server'
import { afterEach, describe, expect, test } from 'vitest'
import { ndjson, type RecordStream, type SluiceError, type StreamState, sse } from '../src/index.js'
import { chaos, type Format, openChaos, recordStart } from './support/chaos-server.js'
import { listen, serveForTest, urlOf } from './support/loopback.js'
import { openScripted, Seq, type Step, scripted } from './support/scripted-server.js'
import { fast, range, seqs } from './support/streams.js'

afterEach(() => {
  delete (globalThis as { document?: unknown }).document
})

describe.each(['ndjson', 'sse'] as const)('%s() over a chaos server', (format) => {
  test('sends Last-Event-ID with the last delivered id on reconnect', async () => {
    // Cut 5 bytes into record 3: records 0-2 are delivered.
    const server = await chaos(format, 10, [{ kind: 'cut', atByte: (await recordStart(format, 10, 3)) + 5 }])
    expect(await seqs(openChaos(format, server.url))).toEqual(range(10))
    expect(server.requests.map((r) => r.lastEventId)).toEqual([undefined, '2'])
  })

  test('drops the repeated record of an inclusive replay', async () => {
    const server = await chaos(format, 6, [{ kind: 'cut', atByte: 200 }], { inclusive: true })
    expect(await seqs(openChaos(format, server.url))).toEqual(range(6))
    expect(server.requests).toHaveLength(2)
  })

  test('starts from options.lastEventId', async () => {
    const server = await chaos(format, 8, [])
    expect(await seqs(openChaos(format, server.url, { lastEventId: '4' }))).toEqual([5, 6, 7])
    expect(server.requests[0]!.lastEventId).toBe('4')
  })

  test('a 401 is final: thrown at once with its status, no retry', async () => {
    const server = await chaos(format, 5, [{ kind: 'status', status: 401, body: 'token expired' }])
    const error = (await seqs(openChaos(format, server.url)).catch((e) => e)) as SluiceError & { status: number }
    expect(error.code).toBe('HTTP_ERROR')
    expect(error.status).toBe(401)
    expect(error.message).toContain('token expired')
    expect(error.attempts).toBe(1)
    expect(server.requests).toHaveLength(1)
  })

  test('a wrong content type is final', async () => {
    const server = await chaos(format, 5, [{ kind: 'wrong-type' }])
    const error = (await seqs(openChaos(format, server.url)).catch((e) => e)) as SluiceError
    expect(error.code).toBe('CONTENT_TYPE')
    expect(error.message).toContain('text/html')
    expect(server.requests).toHaveLength(1)
  })

  test('204 ends the stream cleanly without reconnecting', async () => {
    const server = await chaos(format, 5, [{ kind: 'no-content' }])
    const stream = openChaos(format, server.url)
    expect(await seqs(stream)).toEqual([])
    expect(stream.state).toBe('closed')
    expect(server.requests).toHaveLength(1)
  })
})

describe('ndjson() without idOf', () => {
  test('throws instead of replaying records after the first one was delivered', async () => {
    const server = await chaos('ndjson', 10, [{ kind: 'cut', atByte: 300 }])
    const got: number[] = []
    const error = await (async () => {
      for await (const r of ndjson<{ seq: number }>(server.url, { retry: fast })) got.push(r.seq)
    })().catch((e: SluiceError) => e)
    expect((error as SluiceError).code).toBe('NETWORK_ERROR')
    expect(got.length).toBeGreaterThan(0)
    expect(got).toEqual(range(got.length))
    expect(server.requests).toHaveLength(1)
  })

  test('still retries failures before the first record', async () => {
    const server = await chaos('ndjson', 3, [{ kind: 'status', status: 503 }])
    expect(await seqs(ndjson<{ seq: number }>(server.url, { retry: fast }))).toEqual([0, 1, 2])
  })
})

describe('non-idempotent requests', () => {
  test('a POST is not re-sent unless retry is given', async () => {
    const server = await chaos('ndjson', 3, [{ kind: 'status', status: 503 }])
    const error = (await seqs(ndjson<{ seq: number }>(server.url, { method: 'POST', body: '{}' })).catch(
      (e) => e,
    )) as SluiceError
    expect(error.code).toBe('HTTP_ERROR')
    expect(server.requests).toHaveLength(1)
  })

  test('a POST is re-sent with a fresh body when retry is asked for', async () => {
    const server = await chaos('ndjson', 3, [{ kind: 'status', status: 503 }])
    let bodies = 0
    const stream = ndjson<{ seq: number }>(server.url, { method: 'POST', body: () => `{"n":${++bodies}}`, retry: fast })
    expect(await seqs(stream)).toEqual([0, 1, 2])
    expect(bodies).toBe(2)
  })
})

describe('server hints', () => {
  test('Retry-After sets the delay, capped by maxDelayMs', async () => {
    const server = await chaos('ndjson', 3, [
      { kind: 'status', status: 503, retryAfter: '0' },
      { kind: 'status', status: 429, retryAfter: '3600' },
    ])
    const delays: number[] = []
    const stream = ndjson<{ seq: number }>(server.url, {
      retry: { initialDelayMs: 1, minDelayMs: 0, maxDelayMs: 40 },
      onRetry: ({ delayMs }) => delays.push(delayMs),
    })
    expect(await seqs(stream)).toEqual([0, 1, 2])
    expect(delays).toEqual([0, 40])
  })

  test('the SSE retry: field sets the reconnection delay', async () => {
    const server = await chaos('sse', 4, [{ kind: 'cut', atByte: (await recordStart('sse', 4, 2)) + 3 }], {
      retryMs: 37,
    })
    const delays: number[] = []
    const stream = sse(server.url, {
      json: true,
      retry: { minDelayMs: 0 },
      onRetry: ({ delayMs }) => delays.push(delayMs),
    })
    const got: number[] = []
    for await (const event of stream) got.push((event.data as { seq: number }).seq)
    expect(got).toEqual([0, 1, 2, 3])
    expect(delays).toEqual([37])
  })

  test('events carry the retry value of their block', async () => {
    const server = await chaos('sse', 2, [], { retryMs: 250 })
    const retries: (number | undefined)[] = []
    for await (const event of sse(server.url)) retries.push(event.retry)
    expect(retries[0]).toBe(250)
  })
})

describe('sse()', () => {
  test('reconnects when the stream ends without the end event', async () => {
    const server = await chaos('sse', 5, [{ kind: 'end-early', atByte: await recordStart('sse', 5, 2) }])
    const stream = openChaos('sse', server.url)
    expect(await seqs(stream)).toEqual(range(5))
    expect(stream.counters.reconnects).toBe(1)
    expect(server.requests[1]!.lastEventId).toBe('1')
  })
})

describe.each(['ndjson', 'sse'] as const)('%s(): invalid records (onInvalid: skip) across reconnects', (format) => {
  test.each([false, true])(
    'an invalid record, then a cut: every valid record once (inclusive replay: %s)',
    async (inclusive) => {
      // sse() inclusive: the replay is the invalid event 1, skipped again; event 2 after it is no replay.
      const server = await scripted(format, [0, 'bad', 2, 3], (n) => (n === 0 ? { cut: 2 } : 'ok'), inclusive)
      const stream = openScripted(format, server.url)
      expect(await seqs(stream)).toEqual([0, 2, 3])
      expect(stream.counters.reconnects).toBe(1)
    },
  )

  test.each([false, true])(
    'a valid replay followed by an invalid record in the same chunk (inclusive replay: %s)',
    async (inclusive) => {
      const server = await scripted(format, [0, 1, 'bad', 3], (n) => (n === 0 ? { cut: 2 } : 'ok'), inclusive)
      const stream = openScripted(format, server.url)
      expect(await seqs(stream)).toEqual([0, 1, 3])
    },
  )

  test('several cuts among invalid records: every valid record once, in order', async () => {
    const items: (number | 'bad')[] = [0, 'bad', 'bad', 3, 'bad', 5, 'bad', 'bad', 8]
    const plan: Step[] = [{ cut: 2 }, { cut: 1 }, { cut: 4 }, { cut: 0 }, { cut: 2 }]
    const server = await scripted(format, items, (n) => plan[n] ?? 'ok')
    expect(await seqs(openScripted(format, server.url))).toEqual([0, 3, 5, 8])
  })
})

describe('ndjson(): an empty id from idOf is no resume position', () => {
  test('a cut after it throws instead of reconnecting without Last-Event-ID (which replays from the start)', async () => {
    const server = await scripted('ndjson', [0, 1, 2, 3], (n) => (n === 0 ? { cut: 2 } : 'ok'))
    const stream = ndjson<{ seq: number }>(server.url, { idOf: (r) => (r.seq === 1 ? '' : r.seq), retry: fast })
    const got: number[] = []
    const error = await (async () => {
      for await (const record of stream) got.push(record.seq)
    })().catch((thrown: SluiceError) => thrown)
    expect(got).toEqual([0, 1])
    expect((error as SluiceError).code).toBe('NETWORK_ERROR')
    expect(server.lastEventIds).toEqual([undefined])
  })
})

describe('sse(): an inclusive replay of an invalid event, then an event without its own id', () => {
  /** Request 0: events 0 and an invalid 1, then a cut. Request 1 (inclusive): the invalid 1 again, then an event with no `id` field, then 3 and the end. */
  async function replayServer() {
    const lastEventIds: (string | undefined)[] = []
    const server = await listen((request, response) => {
      lastEventIds.push(request.headers['last-event-id'] as string | undefined)
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      const bad = 'id: 1\ndata: {"seq":"1"}\n\n'
      if (lastEventIds.length === 1)
        return void response.write(`id: 0\ndata: {"seq":0}\n\n${bad}`, () => response.socket?.destroy())
      response.end(`${bad}data: {"seq":2}\n\nid: 3\ndata: {"seq":3}\n\nevent: end\ndata:\n\n`)
    })
    return { url: `${urlOf(server)}s`, lastEventIds }
  }

  // The event after the skipped replay inherits id 1 (HTML §9.2.6), yet it is new: it must arrive.
  test.each([
    ['a sync schema', Seq],
    ['an async schema', Seq.refine(async () => true)],
  ] as const)(
    'with %s, the event that inherits the replayed id is delivered, not taken for the replay',
    async (_, schema) => {
      const server = await replayServer()
      const stream = sse(server.url, { schema, onInvalid: 'skip', retry: fast })
      expect(await seqs(stream)).toEqual([0, 2, 3])
      expect(server.lastEventIds).toEqual([undefined, '1'])
    },
  )
})

describe('pauseWhenHidden follows the retry and resume rules', () => {
  /** A `document` whose visibility the test sets (the stream looks for `globalThis.document`). */
  function page() {
    const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' })
    ;(globalThis as { document?: unknown }).document = doc
    return (state: 'hidden' | 'visible') => {
      doc.visibilityState = state
      doc.dispatchEvent(new Event('visibilitychange'))
    }
  }

  /** Reads 3 records, hides the page while a read is pending, waits for the pause or the end, shows it again. */
  async function hideAndShow(stream: RecordStream<unknown>, states: StreamState[], setPage: ReturnType<typeof page>) {
    const iterator = stream[Symbol.asyncIterator]()
    const got: number[] = []
    for (let i = 0; i < 3; i++) got.push(((await iterator.next()).value as { seq: number }).seq)
    const pending = iterator.next().then(
      (result) => ({ result }),
      (error: SluiceError) => ({ error }),
    )
    const settled = new Promise<void>((resolve) => {
      const check = () => (stream.state === 'retrying' || stream.state === 'closed' ? resolve() : setImmediate(check))
      check()
    })
    setPage('hidden')
    await settled
    const stateWhileHidden = stream.state
    setPage('visible')
    const outcome = await pending
    stream.close()
    return { got, stateWhileHidden, outcome, states }
  }

  test('ndjson() without idOf: hiding after records were delivered throws instead of replaying them', async () => {
    const setPage = page()
    const server = await chaos('ndjson', 10, [{ kind: 'stall', afterRecords: 3 }])
    const states: StreamState[] = []
    const stream = ndjson(server.url, { pauseWhenHidden: true, retry: fast, onStateChange: (s) => states.push(s) })
    const { got, stateWhileHidden, outcome } = await hideAndShow(stream, states, setPage)
    expect(got).toEqual([0, 1, 2])
    expect(stateWhileHidden).toBe('closed')
    expect('error' in outcome && outcome.error.code).toBe('NETWORK_ERROR')
    expect(server.requests).toHaveLength(1) // nothing replayed
  })

  test('a POST without explicit retry is not re-sent when the page is shown again', async () => {
    const setPage = page()
    const server = await chaos('ndjson', 10, [{ kind: 'stall', afterRecords: 3 }])
    const stream = ndjson<{ seq: number }>(server.url, {
      method: 'POST',
      body: '{}',
      idOf: (r) => r.seq,
      pauseWhenHidden: true,
    })
    const { outcome, stateWhileHidden } = await hideAndShow(stream, [], setPage)
    expect(stateWhileHidden).toBe('closed')
    expect('error' in outcome && outcome.error.code).toBe('NETWORK_ERROR')
    expect(server.requests).toHaveLength(1) // no second paid generation
  })

  test('a resumable GET still pauses and resumes from the last id when shown', async () => {
    const setPage = page()
    const server = await chaos('ndjson', 10, [{ kind: 'stall', afterRecords: 3 }])
    const stream = ndjson<{ seq: number }>(server.url, { idOf: (r) => r.seq, pauseWhenHidden: true, retry: fast })
    const { got, stateWhileHidden, outcome } = await hideAndShow(stream, [], setPage)
    expect(got).toEqual([0, 1, 2])
    expect(stateWhileHidden).toBe('retrying')
    expect('result' in outcome && outcome.result.value).toEqual(expect.objectContaining({ seq: 3 }))
    expect(server.requests.map((r) => r.lastEventId)).toEqual([undefined, '2'])
  })
})

describe('a Request whose body was read already', () => {
  test('is refused at once with a TypeError, before any request (it could never be sent)', async () => {
    const request = new Request('http://127.0.0.1:9/', { method: 'POST', body: 'prompt' })
    await request.text()
    expect(() => ndjson(request)).toThrow(/body was already read/)
  })
})

describe('an inclusive replay is dropped on the first attempt too', () => {
  test.each(['ndjson', 'sse'] as const)('%s() started from options.lastEventId', async (format) => {
    const server = await chaos(format, 8, [], { inclusive: true })
    const stream: RecordStream<unknown> =
      format === 'ndjson'
        ? ndjson<{ seq: number }>(server.url, { idOf: (r) => r.seq, lastEventId: '4' })
        : sse(server.url, { json: true, lastEventId: '4' })
    expect(await seqs(stream)).toEqual([5, 6, 7])
    expect(server.requests.map((r) => r.lastEventId)).toEqual(['4'])
  })
})

describe('resume: reconnects through another request', () => {
  /** POST /generations starts a generation of `total` records, cut after `cutAfter`; GET /generations/g1/stream?after=N resumes it. */
  async function generations(format: Format, total: number, cutAfter: number) {
    const log: string[] = []
    const server = await serveForTest(async (request) => {
      const url = new URL(request.url)
      log.push(`${request.method} ${url.pathname}${url.search}`)
      const after = url.searchParams.get('after')
      const from = after === null ? 0 : Number(after) + 1
      const to = after === null ? cutAfter : total
      const seqs = range(to).slice(from)
      // The first response is cut mid-stream: it ends without the end marker.
      if (format === 'ndjson') {
        const end = to === total ? `{"$sluice":"end","count":${seqs.length}}\n` : ''
        return new Response(seqs.map((seq) => `{"seq":${seq}}\n`).join('') + end, {
          headers: { 'content-type': 'application/x-ndjson' },
        })
      }
      const end = to === total ? `event: end\ndata: {"count":${seqs.length}}\n\n` : ''
      return new Response(seqs.map((seq) => `id: ${seq}\ndata: {"seq":${seq}}\n\n`).join('') + end, {
        headers: { 'content-type': 'text/event-stream' },
      })
    })
    return { url: `${server.url}/generations`, log, base: server.url }
  }

  for (const format of ['ndjson', 'sse'] as const) {
    test(`${format}(): a POST that starts a generation resumes by GET with the cursor: no loss, no duplicate`, async () => {
      const { url, log, base } = await generations(format, 6, 3)
      const options = {
        method: 'POST',
        body: '{"prompt":"hi"}',
        retry: undefined,
        resume: (id: string) => `${base}/generations/g1/stream?after=${id}`,
      }
      const stream =
        format === 'ndjson'
          ? ndjson<{ seq: number }>(url, { ...options, idOf: (r) => r.seq, requireEnd: true })
          : sse(url, { ...options, json: true })
      expect(await seqs(stream)).toEqual(range(6))
      expect(log).toEqual(['POST /generations', 'GET /generations/g1/stream?after=2'])
    })
  }

  test('a resume function that throws is a final error, thrown as it is, with no further request', async () => {
    const { url, log } = await generations('ndjson', 6, 3)
    const broken = new Error('no generation id yet')
    let retried = 0
    const stream = ndjson<{ seq: number }>(url, {
      idOf: (r) => r.seq,
      requireEnd: true,
      retry: fast,
      onRetry: () => retried++,
      resume: () => {
        throw broken
      },
    })
    const got: number[] = []
    await expect(
      (async () => {
        for await (const r of stream) got.push(r.seq)
      })(),
    ).rejects.toBe(broken)
    expect(got).toEqual([0, 1, 2])
    expect(retried).toBe(1)
    expect(log).toEqual(['GET /generations'])
    expect(stream.state).toBe('closed')
  })

  test('a POST without explicit retry that fails before any resume position is not re-sent, even with resume', async () => {
    const { url, log } = await generations('ndjson', 6, 0)
    const stream = ndjson<{ seq: number }>(url, {
      method: 'POST',
      idOf: (r) => r.seq,
      requireEnd: true,
      resume: (id) => `${url}?after=${id}`,
    })
    await expect(seqs(stream)).rejects.toMatchObject({ code: 'TRUNCATED_STREAM' })
    expect(log).toEqual(['POST /generations'])
  })
})

describe('shouldRetry: the caller decides', () => {
  test('a 401 is retried once after headers() refreshed the token, then the stream completes (real server)', async () => {
    const seen: (string | undefined)[] = []
    const server = await serveForTest((request) => {
      const auth = request.headers.get('authorization') ?? undefined
      seen.push(auth)
      if (auth !== 'Bearer fresh') return new Response('token expired', { status: 401 })
      return ndjsonResponse([{ seq: 0 }, { seq: 1 }])
    })
    let token = 'stale'
    const asked: { code: string; attempt: number; lastEventId: string | undefined }[] = []
    const stream = ndjson<{ seq: number }>(server.url, {
      retry: fast,
      headers: () => ({ authorization: `Bearer ${token}` }),
      shouldRetry: async (error, { attempt, lastEventId }) => {
        asked.push({ code: error.code, attempt, lastEventId })
        if ((error as { status?: number }).status !== 401 || attempt > 1) return false
        token = await Promise.resolve('fresh')
        return true
      },
    })
    expect(await seqs(stream)).toEqual([0, 1])
    expect(seen).toEqual(['Bearer stale', 'Bearer fresh'])
    expect(asked).toEqual([{ code: 'HTTP_ERROR', attempt: 1, lastEventId: undefined }])
  })

  test('false stops a failure the default policy retries (a 503 in maintenance), { delayMs } sets the wait', async () => {
    let requests = 0
    const server = await serveForTest(() => {
      requests++
      return new Response(requests === 1 ? 'busy' : 'maintenance', { status: 503 })
    })
    const delays: number[] = []
    const stream = ndjson(server.url, {
      retry: { ...fast, maxDelayMs: 1000 },
      onRetry: ({ delayMs }) => delays.push(delayMs),
      shouldRetry: (error) => ((error as { snippet?: string }).snippet === 'maintenance' ? false : { delayMs: 20 }),
    })
    await expect(seqs(stream)).rejects.toMatchObject({ code: 'HTTP_ERROR', status: 503, attempts: 2 })
    expect(delays).toEqual([20])
    expect(requests).toBe(2)
  })

  test('a shouldRetry that throws ends the stream with what it threw', async () => {
    const server = await serveForTest(() => new Response('nope', { status: 500 }))
    const bug = new Error('bug in shouldRetry')
    const stream = ndjson(server.url, {
      retry: fast,
      shouldRetry: () => {
        throw bug
      },
    })
    await expect(seqs(stream)).rejects.toBe(bug)
    expect(stream.state).toBe('closed')
  })
})

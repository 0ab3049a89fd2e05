import { afterEach, describe, expect, test, vi } from 'vitest'
import { ndjsonResponse, type StreamSummary, sseResponse } from '../src/index.js'
import { countingSource, deferred, settle, stallingSource } from './helpers/sources.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('pull-based bodies', () => {
  test('a client that reads nothing makes the source produce at most two records', async () => {
    const { source, pulled } = countingSource()
    const response = ndjsonResponse(source)
    await settle()
    // One record queued (highWaterMark 1), one more may be waiting in the generator.
    expect(pulled()).toBeLessThanOrEqual(2)
    const reader = response.body!.getReader()
    for (let i = 0; i < 10; i++) await reader.read()
    await settle()
    expect(pulled()).toBeLessThanOrEqual(12)
    await reader.cancel()
  })

  test('cancelling the body calls the generator return(), so its finally runs', async () => {
    const summaries: StreamSummary[] = []
    const { source, released } = countingSource()
    const reader = ndjsonResponse(source, { idOf: (r) => r.seq, onClose: (s) => summaries.push(s) }).body!.getReader()
    await reader.read()
    await reader.read()
    await reader.cancel(new Error('client went away'))
    await released
    expect(summaries).toEqual([{ reason: 'cancel', count: 2, lastId: '1' }])
  })

  test('cancelling the body cancels a ReadableStream source', async () => {
    const cancelled = deferred<unknown>()
    const source = new ReadableStream<{ seq: number }>({
      pull: (controller) => controller.enqueue({ seq: 1 }),
      cancel: (reason) => cancelled.resolve(reason),
    })
    const reader = sseResponse(source).body!.getReader()
    await reader.read()
    await reader.cancel('gone')
    expect(await cancelled.promise).toBe('gone')
  })

  test('aborting signal errors the body and releases the source', async () => {
    const aborter = new AbortController()
    const summaries: StreamSummary[] = []
    const { source, released, proceed } = stallingSource([{ seq: 0 }])
    const reader = ndjsonResponse(source, {
      signal: aborter.signal,
      onClose: (s) => summaries.push(s),
    }).body!.getReader()
    await reader.read()
    const pending = reader.read()
    aborter.abort(new Error('shutting down'))
    await expect(pending).rejects.toThrow('shutting down')
    // The generator waits in an await when the abort comes: its finally runs when that settles.
    proceed()
    await released
    expect(summaries[0]).toMatchObject({ reason: 'abort', count: 1 })
  })

  test('an already aborted signal errors the body at once', async () => {
    const aborter = new AbortController()
    aborter.abort(new Error('too late'))
    await expect(ndjsonResponse([1], { signal: aborter.signal }).text()).rejects.toThrow('too late')
  })
})

describe('heartbeats', () => {
  test('a busy stream sends no heartbeat', async () => {
    vi.useFakeTimers()
    const response = ndjsonResponse([1, 2, 3], { heartbeatMs: 10 })
    const text = response.text()
    await vi.advanceTimersByTimeAsync(5)
    expect(await text).toBe('1\n2\n3\n{"$sluice":"end","count":3}\n')
  })

  test('an idle NDJSON stream sends a blank line every heartbeatMs, and none after the client left', async () => {
    vi.useFakeTimers()
    const { source, released, proceed } = stallingSource([{ seq: 0 }])
    const reader = ndjsonResponse(source, { heartbeatMs: 1000 }).body!.getReader()
    const text = new TextDecoder()
    expect(text.decode((await reader.read()).value)).toBe('{"seq":0}\n')
    const next = reader.read()
    await vi.advanceTimersByTimeAsync(999)
    let got: string | undefined
    void next.then((r) => (got = text.decode(r.value)))
    await vi.advanceTimersByTimeAsync(0)
    expect(got).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(got).toBe('\n')
    expect(
      text.decode(
        (
          await (async () => {
            const r = reader.read()
            await vi.advanceTimersByTimeAsync(1000)
            return r
          })()
        ).value,
      ),
    ).toBe('\n')
    await reader.cancel()
    expect(vi.getTimerCount()).toBe(0)
    // The generator is suspended in an await: its return() (and finally) runs once that settles.
    proceed()
    await released
  })

  test('an idle SSE stream sends a comment, and the timer stops when the stream ends', async () => {
    vi.useFakeTimers()
    const { source, proceed } = stallingSource([{ data: 'a', id: 1 }])
    const reader = sseResponse(source, { heartbeatMs: 500 }).body!.getReader()
    const text = new TextDecoder()
    expect(text.decode((await reader.read()).value)).toBe('data: a\nid: 1\n\n')
    const beat = reader.read()
    await vi.advanceTimersByTimeAsync(500)
    expect(text.decode((await beat).value)).toBe(': heartbeat\n\n')
    proceed()
    expect(text.decode((await reader.read()).value)).toBe('event: end\ndata: {"count":1}\n\n')
    expect((await reader.read()).done).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  test('no heartbeat piles up while the client is not reading', async () => {
    vi.useFakeTimers()
    const { source, released, proceed } = stallingSource([1])
    const response = ndjsonResponse(source, { heartbeatMs: 100 })
    await vi.advanceTimersByTimeAsync(1000)
    const reader = response.body!.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toBe('1\n')
    // The queue was full (the record) for all ten intervals, so no heartbeat was queued behind it.
    let second: string | undefined
    void reader.read().then((r) => (second = new TextDecoder().decode(r.value)))
    await vi.advanceTimersByTimeAsync(0)
    expect(second).toBeUndefined()
    await reader.cancel()
    proceed()
    await released
  })
})

/** The `persist` option: the resume position kept in a storage across streams (a page reload). */

import { ndjsonResponse, sseResponse } from 'sluice-server'
import { afterEach, expect, test, vi } from 'vitest'
import { ndjson, sse } from '../src/index.js'
import { cursorOf } from '../src/persist.js'
import { serveForTest } from './support/loopback.js'

afterEach(() => {
  vi.restoreAllMocks()
})

/** A Storage-like map. */
function memoryStorage() {
  const items = new Map<string, string>()
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  }
}

/** `total` records from after Last-Event-ID, then the end marker; logs each Last-Event-ID received. */
async function counter(format: 'ndjson' | 'sse', total: number) {
  const sent: (string | null)[] = []
  const server = await serveForTest((request) => {
    const last = request.headers.get('last-event-id')
    sent.push(last)
    const from = last === null ? 0 : Number(last) + 1
    const seqs = Array.from({ length: total - from }, (_, i) => from + i)
    return format === 'ndjson'
      ? ndjsonResponse(
          seqs.map((seq) => ({ seq })),
          { heartbeatMs: 0 },
        )
      : sseResponse(
          seqs.map((seq) => ({ id: seq, data: { seq } })),
          { heartbeatMs: 0 },
        )
  })
  return { url: server.url, sent }
}

for (const format of ['ndjson', 'sse'] as const) {
  test(`${format}(): a stream started again with the same key continues after the last delivered id, and the entry goes at the end`, async () => {
    const { url, sent } = await counter(format, 6)
    const storage = memoryStorage()
    const open = () =>
      format === 'ndjson'
        ? ndjson<{ seq: number }>(url, { idOf: (r) => r.seq, persist: { key: 'feed', storage } })
        : sse(url, { json: true, persist: { key: 'feed', storage } }).map((e) => e.data as { seq: number })
    const got: number[] = []
    // The page is left after 3 records (a reload).
    for await (const r of open()) {
      got.push(r.seq)
      if (got.length === 3) break
    }
    expect(storage.items.get('feed')).toBe('2')
    for await (const r of open()) got.push(r.seq)
    expect(got).toEqual([0, 1, 2, 3, 4, 5])
    expect(sent).toEqual([null, '2'])
    expect(storage.items.has('feed')).toBe(false)
  })
}

test('a storage that throws never breaks the stream: it goes on without persisting and says so once', async () => {
  const { url } = await counter('ndjson', 5)
  const errors: unknown[] = []
  const full = new Error('QuotaExceededError')
  let writes = 0
  const storage = {
    getItem: () => null,
    setItem: () => {
      writes++
      throw full
    },
    removeItem: () => {},
  }
  const got: number[] = []
  for await (const r of ndjson<{ seq: number }>(url, {
    idOf: (r) => r.seq,
    persist: { key: 'k', storage, onError: (e) => errors.push(e) },
  })) {
    got.push(r.seq)
  }
  expect(got).toEqual([0, 1, 2, 3, 4])
  expect(errors).toEqual([full])
  expect(writes).toBe(1)
})

test('without onError, a throwing storage is reported by one console.warn', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
  const cursor = cursorOf({
    key: 'k',
    storage: {
      getItem: () => {
        throw new Error('SecurityError')
      },
      setItem: () => {
        throw new Error('SecurityError')
      },
      removeItem: () => {},
    },
  })
  expect(cursor.load()).toBeUndefined()
  cursor.save('1')
  cursor.save('2')
  expect(warn).toHaveBeenCalledTimes(1)
  expect(String(warn.mock.calls[0]![0])).toMatch(/^sluice: Cannot persist the stream position under "k"/)
})

test('the default storage is sessionStorage where it exists; without one nothing is persisted', () => {
  const storage = memoryStorage()
  vi.stubGlobal('sessionStorage', storage)
  try {
    cursorOf({ key: 'k' }).save('7')
    expect(storage.items.get('k')).toBe('7')
    expect(cursorOf({ key: 'k' }).load()).toBe('7')
  } finally {
    vi.unstubAllGlobals()
  }
  expect(cursorOf({ key: 'k' }).load()).toBeUndefined()
})

test('a stored id wins over lastEventId; a bad persist option is a TypeError at the call', async () => {
  const { url, sent } = await counter('ndjson', 4)
  const storage = memoryStorage()
  storage.setItem('k', '1')
  const got: number[] = []
  for await (const r of ndjson<{ seq: number }>(url, {
    idOf: (r) => r.seq,
    lastEventId: '0',
    persist: { key: 'k', storage },
  }))
    got.push(r.seq)
  expect(got).toEqual([2, 3])
  expect(sent).toEqual(['1'])
  expect(() => ndjson(url, { persist: {} as { key: string } })).toThrow(TypeError)
})

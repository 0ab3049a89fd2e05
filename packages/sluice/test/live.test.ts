/**
 * The caught-up marker on the client: `stream.live` and `onLive` over a real loopback sluice-server
 * whose source yields `caughtUp` where its history ends, across a cut and a resume.
 */

import { caughtUp, lastEventId, ndjsonResponse } from 'sluice-server'
import { describe, expect, test } from 'vitest'
import { decodeNdjson, ndjson } from '../src/index.js'
import { LIVE } from '../src/live.js'
import { NdjsonParser } from '../src/ndjson.js'
import { serveForTest } from './support/loopback.js'

const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0 }

/**
 * A memory feed: `history` records stored before any client came; each live record is appended to the
 * log when a client reads it, up to `total`. The first connection fails right after record `cutAfter`.
 */
async function feedServer(history: number, total: number, cutAfter?: number) {
  const log = Array.from({ length: history }, (_, seq) => ({ seq }))
  let connections = 0
  const server = await serveForTest(
    (request) => {
      const first = connections++ === 0
      const from = Number(lastEventId(request) ?? -1) + 1
      async function* feed() {
        for (let seq = from; seq < log.length; seq++) {
          yield log[seq]!
          if (first && seq === cutAfter) throw new Error('cut')
        }
        yield caughtUp
        while (log.length < total) {
          const record = { seq: log.length }
          log.push(record)
          yield record
          if (first && record.seq === cutAfter) throw new Error('cut')
        }
      }
      return ndjsonResponse(feed(), { heartbeatMs: 0 })
    },
    { onError: () => {} },
  )
  return { url: server.url, connections: () => connections }
}

describe('stream.live', () => {
  test('is false through the history, true from the caught-up marker on, and onLive is called there', async () => {
    const { url } = await feedServer(5, 8)
    let onLive = 0
    const stream = ndjson<{ seq: number }>(url, { idOf: (r) => r.seq, onLive: () => onLive++ })
    expect(stream.live).toBe(false)
    const seen: [number, boolean, number][] = []
    for await (const r of stream) seen.push([r.seq, stream.live, onLive])
    expect(seen).toEqual([
      [0, false, 0],
      [1, false, 0],
      [2, false, 0],
      [3, false, 0],
      [4, false, 0],
      [5, true, 1],
      [6, true, 1],
      [7, true, 1],
    ])
    expect(stream.counters.records).toBe(8)
  })

  test('goes back to false on a reconnect until that connection catches up, with no record lost or repeated', async () => {
    // Cut in the live tail after record 6 (what the socket had not flushed is lost with it): the
    // resume backfills from the log what the client missed, then is live again.
    const { url, connections } = await feedServer(5, 10, 6)
    const log: (string | [number, boolean])[] = []
    const stream = ndjson<{ seq: number }>(url, {
      idOf: (r) => r.seq,
      retry: fast,
      onLive: () => log.push('live'),
      onStateChange: (state) => state === 'connecting' && log.push('connect'),
    })
    for await (const r of stream) log.push([r.seq, stream.live])
    const seqs = log.filter((e) => typeof e !== 'string').map(([seq]) => seq)
    expect(seqs).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(connections()).toBe(2)
    // Per connection: every record before its marker is history (live false), every one after it live.
    // The first attempt starts in 'connecting' (no change to report): only the reconnect is logged.
    const segments = log
      .join('|')
      .split('connect')
      .map((segment) => segment.split('|').filter(Boolean))
    expect(segments).toHaveLength(2)
    for (const segment of segments) {
      const at = segment.indexOf('live')
      segment.forEach((entry, i) => {
        if (entry !== 'live') expect(entry.endsWith(at !== -1 && i > at ? 'true' : 'false')).toBe(true)
      })
    }
    // The second connection always reaches the tail (the log ends at 10 only through live reads).
    expect(segments[1]).toContain('live')
  })

  test('stays false against a server that sends no marker', async () => {
    const server = await serveForTest(() => ndjsonResponse([{ seq: 0 }, { seq: 1 }]))
    const stream = ndjson<{ seq: number }>(server.url, { onLive: () => expect.unreachable() })
    for await (const r of stream) expect(r.seq).toBeLessThan(2)
    expect(stream.live).toBe(false)
  })

  test('an onLive that throws ends the stream with that error, not a retry', async () => {
    const { url, connections } = await feedServer(2, 4)
    const bug = new Error('bug in onLive')
    const stream = ndjson(url, {
      idOf: (r: { seq: number }) => r.seq,
      retry: fast,
      onLive: () => {
        throw bug
      },
    })
    await expect(async () => {
      for await (const _ of stream) void _
    }).rejects.toBe(bug)
    expect(connections()).toBe(1)
  })
})

describe('the NDJSON caught-up line', () => {
  test('is dropped by decodeNdjson, and handed on in order only to the resilient stream', async () => {
    const body = '{"seq":0}\n{"$sluice":"live"}\n{"seq":1}\n'
    const records: unknown[] = []
    for await (const r of decodeNdjson(new Response(body))) records.push(r)
    expect(records).toEqual([{ seq: 0 }, { seq: 1 }])
    const out: unknown[] = []
    const parser = new NdjsonParser({}, true)
    parser.push(body, out)
    expect(out).toEqual([{ seq: 0 }, LIVE, { seq: 1 }])
  })

  test('is not counted by the end trailer', async () => {
    const records: unknown[] = []
    const body = '{"seq":0}\n{"$sluice":"live"}\n{"$sluice":"end","count":1}\n'
    for await (const r of decodeNdjson(new Response(body), { requireEnd: true })) records.push(r)
    expect(records).toEqual([{ seq: 0 }])
  })
})

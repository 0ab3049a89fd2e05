/**
 * sluice's feed markers in the SSE parser (sse.ts): a `gap` event is a GapError by default (or goes
 * on with onGap), the caught-up `live` event sets `stream.live` on sse() and is dropped by decodeSse;
 * an app's own events named `gap` or `live` with other data stay ordinary events. Against a real
 * loopback sluice-server feedResponse on a memoryFeed, and under any chunking for the decoder.
 */

import { feedResponse, memoryFeed } from 'sluice-server'
import { describe, expect, test } from 'vitest'
import { decodeSse, type Gap, GapError, sse } from '../src/index.js'
import { chunkings } from './chunkings.js'
import { collect } from './collect.js'
import { serveForTest } from './support/loopback.js'

const gapBlock = 'event: gap\ndata: {"reason":"trimmed","lastEventId":"e:1","resumeFrom":"e:5"}\n\n'
const text = `id: 1\ndata: "a"\n\n${gapBlock}event: live\ndata: {"$sluice":"live"}\n\nid: 5\ndata: "b"\n\nevent: end\ndata: {"count":2}\n\n`

describe('SSE gap marker', () => {
  test('is a GapError by default, under any chunking, after the records before it', async () => {
    for (const { chunks } of chunkings(text)) {
      const { items, error } = await collect(decodeSse(chunks, { json: true }))
      expect(error).toBeInstanceOf(GapError)
      expect(error).toMatchObject({ code: 'STREAM_GAP', reason: 'trimmed', lastEventId: 'e:1', resumeFrom: 'e:5' })
      expect(items.map((e) => e.data)).toEqual(['a'])
    }
  })

  test("goes on with onGap: 'continue' or a callback; the live marker is dropped by decodeSse", async () => {
    const gaps: Gap[] = []
    const { items: events } = await collect(decodeSse([text], { json: true, onGap: (gap) => void gaps.push(gap) }))
    expect(events.map((e) => e.data)).toEqual(['a', 'b'])
    expect(gaps).toEqual([{ reason: 'trimmed', lastEventId: 'e:1', resumeFrom: 'e:5' }])
    const { items: more } = await collect(decodeSse([text], { json: true, onGap: 'continue' }))
    expect(more.map((e) => e.data)).toEqual(['a', 'b'])
  })

  test("an app's own gap or live events with other data are ordinary events", async () => {
    const own = 'event: gap\ndata: hello\n\nevent: live\ndata: yes\n\n'
    const { items: events } = await collect(decodeSse([own], { endMarker: false }))
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['gap', 'hello'],
      ['live', 'yes'],
    ])
  })
})

describe('sse() over a feed', () => {
  test('stream.live turns true at the caught-up marker; every record once, in order', async () => {
    const feed = memoryFeed()
    for (let seq = 0; seq < 5; seq++) await feed.publish('k', { seq })
    const server = await serveForTest((request) => feedResponse(feed, 'k', request, { format: 'sse', heartbeatMs: 0 }))
    const stream = sse<{ seq: number }>(server.url, { json: true } as never) as AsyncIterable<{
      data: { seq: number }
    }> & {
      live: boolean
      close(): void
    }
    const seen: Array<[number, boolean]> = []
    for await (const event of stream) {
      seen.push([event.data.seq, stream.live])
      if (event.data.seq === 4) await feed.publish('k', { seq: 5 })
      if (event.data.seq === 5) await feed.end('k')
    }
    expect(seen).toEqual([
      [0, false],
      [1, false],
      [2, false],
      [3, false],
      [4, false],
      [5, true],
    ])
  })
})

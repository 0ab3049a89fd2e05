/**
 * The contestants, each consuming the same chunks the way its README shows, and counting what it
 * got so every run is checked against the corpus (a fast wrong answer must not win).
 *
 * Every stream-based contestant reads a fresh `ReadableStream` (or, for split2, a Node stream) of
 * the same chunk views; the limits read pre-decoded input with no stream at all.
 *
 * @module
 */
import { Readable } from 'node:stream'
import { getBytes, getLines, getMessages } from '@microsoft/fetch-event-source/lib/cjs/parse.js'
import ndjsonStream from 'can-ndjson-stream'
import { createParser } from 'eventsource-parser'
import { parse as itNdjsonParse } from 'it-ndjson'
import readNDJSONStream from 'ndjson-readablestream'
import { decodeNdjson, decodeSse, NdjsonDecoderStream, SseDecoderStream } from 'sluice'
import split2 from 'split2'
import { streamOf } from './corpus.mjs'
import { decodeNdjson as sizeFirstDecode } from './size-first.mjs'

/** A tally of records: the count and a checksum of `seq` (NDJSON) or data length (SSE). */
class Tally {
  records = 0
  checksum = 0
  record(value) {
    this.records++
    this.checksum += value.seq
  }
  data(text) {
    this.records++
    this.checksum += text.length
  }
}

/** NDJSON contestants: `run(input)` resolves to a {@link Tally}. `input` has `chunks` and `lines`. */
export const ndjsonContestants = [
  {
    name: 'sluice',
    async run({ chunks }) {
      const tally = new Tally()
      for await (const record of decodeNdjson(streamOf(chunks))) tally.record(record)
      return tally
    },
  },
  {
    // What issue 11's 2.5 KB target for decodeNdjson costs: the same features, written for size (lib/size-first.mjs).
    name: 'size-first decoder (2.5 KB)',
    baseline: true,
    async run({ chunks }) {
      const tally = new Tally()
      for await (const record of sizeFirstDecode(streamOf(chunks))) tally.record(record)
      return tally
    },
  },
  {
    name: 'sluice NdjsonDecoderStream',
    variant: true,
    async run({ chunks }) {
      const tally = new Tally()
      const reader = streamOf(chunks).pipeThrough(new NdjsonDecoderStream()).getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return tally
        tally.record(value)
      }
    },
  },
  {
    // The least a streaming consumer can do: read, decode, find each LF, JSON.parse (no checks, no positions).
    name: 'bare streaming loop',
    baseline: true,
    async run({ chunks }) {
      const tally = new Tally()
      const reader = streamOf(chunks).getReader()
      const decoder = new TextDecoder()
      let rest = ''
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        const text = rest + decoder.decode(value, { stream: true })
        let start = 0
        let lf = text.indexOf('\n')
        while (lf !== -1) {
          if (lf > start) tally.record(JSON.parse(text.slice(start, lf)))
          start = lf + 1
          lf = text.indexOf('\n', start)
        }
        rest = text.slice(start)
      }
      if (rest.trim() !== '') tally.record(JSON.parse(rest))
      return tally
    },
  },
  {
    // The stream form's floor: the same bare loop inside a TransformStream, piped through and read (no checks, no positions).
    name: 'bare loop in a TransformStream',
    baseline: true,
    floor: true,
    async run({ chunks }) {
      const tally = new Tally()
      const decoder = new TextDecoder()
      let rest = ''
      const transform = new TransformStream({
        transform(chunk, controller) {
          const text = rest + decoder.decode(chunk, { stream: true })
          let start = 0
          let lf = text.indexOf('\n')
          while (lf !== -1) {
            if (lf > start) controller.enqueue(JSON.parse(text.slice(start, lf)))
            start = lf + 1
            lf = text.indexOf('\n', start)
          }
          rest = text.slice(start)
        },
        flush(controller) {
          if (rest.trim() !== '') controller.enqueue(JSON.parse(rest))
        },
      })
      const reader = streamOf(chunks).pipeThrough(transform).getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return tally
        tally.record(value)
      }
    },
  },
  {
    name: 'ndjson-readablestream',
    async run({ chunks }) {
      const tally = new Tally()
      for await (const record of readNDJSONStream(streamOf(chunks))) tally.record(record)
      return tally
    },
  },
  {
    name: 'can-ndjson-stream',
    async run({ chunks }) {
      const tally = new Tally()
      const reader = ndjsonStream(streamOf(chunks)).getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        tally.record(value)
      }
      return tally
    },
  },
  {
    name: 'it-ndjson',
    async run({ chunks }) {
      const tally = new Tally()
      for await (const record of itNdjsonParse(streamOf(chunks))) tally.record(record)
      return tally
    },
  },
  {
    name: 'split2 + JSON.parse',
    async run({ chunks }) {
      const tally = new Tally()
      const lines = Readable.from(chunks, { objectMode: false }).pipe(split2(JSON.parse))
      for await (const record of lines) tally.record(record)
      return tally
    },
  },
  {
    name: 'TextDecoderStream + split',
    async run({ chunks }) {
      const tally = new Tally()
      const reader = streamOf(chunks).pipeThrough(new TextDecoderStream()).getReader()
      let rest = ''
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        const lines = (rest + value).split('\n')
        rest = lines.pop()
        for (const line of lines) if (line !== '') tally.record(JSON.parse(line))
      }
      if (rest.trim() !== '') tally.record(JSON.parse(rest))
      return tally
    },
  },
  {
    name: 'JSON.parse alone (limit)',
    limit: true,
    async run({ lines }) {
      const tally = new Tally()
      for (let i = 0; i < lines.length; i++) tally.record(JSON.parse(lines[i]))
      return tally
    },
  },
]

/** SSE contestants: `run(input)` resolves to a {@link Tally} of events with data. */
export const sseContestants = [
  {
    name: 'sluice',
    async run({ chunks }) {
      const tally = new Tally()
      for await (const event of decodeSse(streamOf(chunks))) tally.data(event.data)
      return tally
    },
  },
  {
    name: 'sluice SseDecoderStream',
    variant: true,
    async run({ chunks }) {
      const tally = new Tally()
      const reader = streamOf(chunks).pipeThrough(new SseDecoderStream()).getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return tally
        tally.data(value.data)
      }
    },
  },
  {
    name: 'eventsource-parser createParser (limit)',
    limit: true,
    async run({ chunks }) {
      const tally = new Tally()
      const parser = createParser({ onEvent: (event) => tally.data(event.data) })
      const decoder = new TextDecoder()
      const reader = streamOf(chunks).getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        parser.feed(decoder.decode(value, { stream: true }))
      }
      return tally
    },
  },
  {
    // The stream form's floor: createParser inside a TransformStream, piped through and read.
    name: 'createParser in a TransformStream',
    baseline: true,
    floor: true,
    async run({ chunks }) {
      const tally = new Tally()
      const decoder = new TextDecoder()
      let enqueue
      const parser = createParser({ onEvent: (event) => enqueue(event) })
      const transform = new TransformStream({
        transform(chunk, controller) {
          enqueue = (event) => controller.enqueue(event)
          parser.feed(decoder.decode(chunk, { stream: true }))
        },
      })
      const reader = streamOf(chunks).pipeThrough(transform).getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return tally
        tally.data(value.data)
      }
    },
  },
  {
    name: 'fetch-event-source parse',
    async run({ chunks }) {
      const tally = new Tally()
      // fetch-event-source dispatches a message on every blank line, even after a lone comment: keep those with data.
      const onMessage = (message) => {
        if (message.data !== '') tally.data(message.data)
      }
      await getBytes(
        streamOf(chunks),
        getLines(
          getMessages(
            () => {},
            () => {},
            onMessage,
          ),
        ),
      )
      return tally
    },
  },
]

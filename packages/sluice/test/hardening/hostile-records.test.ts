/**
 * Records built to break what consumes them, sent over real loopback HTTP: deep nesting, within
 * maxLineBytes, that a recursive schema cannot walk without running out of stack.
 */
import type { RequestListener } from 'node:http'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { z } from 'zod'
import { ndjson, type SluiceError, sse } from '../../src/index.js'
import { recordFigure } from '../support/figures.js'
import { type Loopback, startLoopback } from '../support/loopback.js'

/** 5,000 levels of arrays: a 10 KB line, far inside maxLineBytes, deep enough to overflow zod's recursion. */
const DEPTH = 5000
const deep = '['.repeat(DEPTH) + ']'.repeat(DEPTH)

type Tree = number | Tree[]
const Tree: z.ZodType<Tree> = z.lazy(() => z.union([z.number(), z.array(Tree)]))
const Record = z.object({ seq: z.number(), tree: Tree })

let url = ''
let requests = 0
const handler: RequestListener = (request, response) => {
  requests++
  if (request.url === '/sse') {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    response.end(`id: 1\ndata: {"seq":1,"tree":[1]}\n\nid: 2\ndata: {"seq":2,"tree":${deep}}\n\n`)
  } else {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    response.end(`{"seq":1,"tree":[1]}\n{"seq":2,"tree":${deep}}\n`)
  }
}
let server: Loopback
beforeAll(async () => {
  server = await startLoopback(handler)
  url = new URL(server.url).origin
})
afterAll(() => server.close())

const retry = { initialDelayMs: 1, minDelayMs: 0, maxAttempts: 5 }

test.each(['ndjson', 'sse'] as const)(
  '%s(): a record too deep for a recursive schema is a final error, not a network error retried',
  async (format) => {
    requests = 0
    const retried: string[] = []
    const got: number[] = []
    const error: SluiceError = await (async () => {
      if (format === 'ndjson') {
        for await (const r of ndjson(`${url}/ndjson`, {
          schema: Record,
          idOf: (r) => r.seq,
          retry,
          onRetry: ({ error }) => retried.push(error.code),
        }))
          got.push(r.seq)
      } else {
        for await (const e of sse(`${url}/sse`, {
          schema: Record,
          retry,
          onRetry: ({ error }) => retried.push(error.code),
        }))
          got.push(e.data.seq)
      }
    })().then(
      () => new Error('no error') as SluiceError,
      (e: unknown) => e as SluiceError,
    )
    expect(got).toEqual([1])
    // The schema's own failure (a RangeError from zod), or a VALIDATION_ERROR once the decoder wraps it.
    expect(error.code ?? error.name).toMatch(/^(RangeError|VALIDATION_ERROR)$/)
    expect(retried).toEqual([])
    expect(requests).toBe(1)
    recordFigure({
      scenario: `hostile: ${format}(), a record nested ${DEPTH.toLocaleString('en-US')} deep under a recursive zod schema`,
      cases: 1,
      detail: `final ${error.code ?? error.name} after ${requests} request, record 1 delivered, nothing retried`,
    })
  },
)

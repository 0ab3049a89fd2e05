/**
 * Real Chromium (Debian's, through playwright) opening 12 streams to one origin at once, served by
 * sluice-server over HTTP/1.1 (`serve`) and over HTTP/2 (`serve` with `tls`, certificate made by
 * openssl, accepted with --ignore-certificate-errors). Over HTTP/1.1 the browser opens at most 6
 * connections per host, so streams 7-12 get nothing until earlier ones end; over HTTP/2 all 12
 * deliver from the start on one connection. Measured: time to first record per stream in the page,
 * the protocol the page saw, and the connections the server accepted.
 */
import { type Browser, chromium } from 'playwright'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { ndjsonResponse } from '../../src/index.js'
import { type FetchHandler, type NodeServer, serve } from '../../src/node.js'
import { type Certificate, makeCertificate } from '../helpers/certificate.js'
import { recordFigure } from '../helpers/figures.js'

const STREAMS = 12
/** Each stream sends its first record at once and ends this long after. */
const HOLD_MS = 1_000

const page = `<!doctype html><meta charset="utf-8"><title>12 streams</title><p>streams</p>`

/** `/`: an empty page (the origin); `/stream?i=`: record 0 at once, record 1 and the end after HOLD_MS. */
const handler: FetchHandler = (request) => {
  const url = new URL(request.url)
  if (url.pathname === '/') return new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } })
  if (url.pathname !== '/stream') return new Response('not found', { status: 404 })
  const i = Number(url.searchParams.get('i'))
  const signal = request.signal
  async function* records() {
    yield { i, seq: 0 }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, HOLD_MS)
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer)
          resolve()
        },
        { once: true },
      )
    })
    if (!signal.aborted) yield { i, seq: 1 }
  }
  return ndjsonResponse(records(), { heartbeatMs: 0 })
}

let certificate: Certificate
let browser: Browser
let http1: NodeServer
let http2: NodeServer
const connections = { http1: 0, http2: 0 }

beforeAll(async () => {
  certificate = await makeCertificate()
  http1 = await serve(handler)
  http1.server.on('connection', () => connections.http1++)
  http2 = await serve(handler, { tls: { key: certificate.key, cert: certificate.cert } })
  http2.server.on('secureConnection', () => connections.http2++)
  browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--ignore-certificate-errors',
    ],
  })
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([http1?.close(), http2?.close()])
  await certificate?.remove()
})

interface Timing {
  /** ms from the page starting all 12 fetches to this stream's first record, and to its end. */
  first: number
  end: number
}

/** Loads the origin in a fresh context, then opens 12 streams at once from the page. */
async function twelveStreams(origin: string): Promise<{ timings: Timing[]; protocols: string[] }> {
  const context = await browser.newContext()
  try {
    const tab = await context.newPage()
    await tab.goto(`${origin}/`)
    return await tab.evaluate(async (count) => {
      const started = performance.now()
      const timings = await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const response = await fetch(`/stream?i=${i}`, { cache: 'no-store' })
          const reader = response.body!.getReader()
          let first = -1
          for (;;) {
            const { done } = await reader.read()
            if (done) break
            if (first < 0) first = performance.now() - started // the first chunk carries record 0
          }
          return { first, end: performance.now() - started }
        }),
      )
      const protocols = performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/stream'))
        .map((e) => (e as PerformanceResourceTiming).nextHopProtocol)
      return { timings, protocols }
    }, STREAMS)
  } finally {
    await context.close()
  }
}

const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ')

test('over HTTP/1.1 Chromium delivers 6 streams at once to one origin: the 7th and later wait for a free connection', async () => {
  const { timings, protocols } = await twelveStreams(http1.url)
  expect(new Set(protocols)).toEqual(new Set(['http/1.1']))
  const firstEnd = Math.min(...timings.map((t) => t.end))
  const waited = timings.filter((t) => t.first >= firstEnd)
  console.log(
    `chromium, 12 streams over HTTP/1.1: time to first record per stream ${fmt(timings.map((t) => t.first))} ms; ` +
      `${waited.length} waited for an earlier stream to end; connections accepted by the server: ${connections.http1}`,
  )
  recordFigure({
    scenario: 'stack: chromium, 12 streams to one origin over HTTP/1.1',
    cases: STREAMS,
    detail: `first record at ${fmt(timings.map((t) => t.first))} ms; ${waited.length} waited for an earlier stream to end (held ${HOLD_MS} ms); ${connections.http1} connections`,
  })
  expect(waited).toHaveLength(STREAMS - 6)
  expect(connections.http1).toBeLessThanOrEqual(6)
})

test('over HTTP/2 all 12 streams deliver from the start on one connection', async () => {
  const { timings, protocols } = await twelveStreams(http2.url)
  expect(new Set(protocols)).toEqual(new Set(['h2']))
  const firstEnd = Math.min(...timings.map((t) => t.end))
  console.log(
    `chromium, 12 streams over HTTP/2: time to first record per stream ${fmt(timings.map((t) => t.first))} ms; ` +
      `connections accepted by the server: ${connections.http2}`,
  )
  recordFigure({
    scenario: 'stack: chromium, 12 streams to one origin over HTTP/2 (sluice-server serve with tls)',
    cases: STREAMS,
    detail: `first record at ${fmt(timings.map((t) => t.first))} ms; none waited; ${connections.http2} connection`,
  })
  for (const t of timings) expect(t.first).toBeLessThan(firstEnd)
  expect(connections.http2).toBe(1)
})

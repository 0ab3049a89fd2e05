/**
 * The chaos property that feeds RELIABILITY.md: ndjson() and sse() against a server that injects
 * random cuts, early ends and 5xx/429 answers with Retry-After, with exclusive and inclusive replay,
 * deliver every record exactly once and in order. The single behaviours behind it (resume, statuses,
 * timeouts, server hints) are tested one by one in fetch.test.ts, connect.test.ts and watch.test.ts.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { bodyFor, chaos, type Fault, openChaos } from '../support/chaos-server.js'
import { recordFigure } from '../support/figures.js'
import { range, seqs } from '../support/streams.js'

describe.each(['ndjson', 'sse'] as const)('%s()', (format) => {
  test('delivers every record once and in order over hundreds of random faults', async () => {
    const total = 12
    const full = Buffer.byteLength(await bodyFor(format, 0, total))
    const fault = fc.oneof(
      fc.integer({ min: 0, max: full }).map((atByte): Fault => ({ kind: 'cut', atByte })),
      fc.integer({ min: 0, max: full }).map((atByte): Fault => ({ kind: 'end-early', atByte })),
      fc.constantFrom<Fault>(
        { kind: 'status', status: 500 },
        { kind: 'status', status: 503, retryAfter: '0' },
        { kind: 'status', status: 429 },
        { kind: 'status', status: 502, retryAfter: new Date(0).toUTCString() },
      ),
    )
    let faultsInjected = 0
    let cases = 0
    let records = 0
    let lost = 0
    let duplicated = 0
    await fc.assert(
      fc.asyncProperty(fc.array(fault, { maxLength: 6 }), fc.boolean(), async (faults, inclusive) => {
        const server = await chaos(format, total, faults, { inclusive })
        const got = await seqs(openChaos(format, server.url, { requireEnd: true }))
        // Faults that struck: every request after the first was a reconnect caused by one.
        faultsInjected += server.requests.length - 1
        cases++
        records += got.length
        duplicated += got.length - new Set(got).size
        lost += range(total).filter((seq) => !got.includes(seq)).length
        await server.close()
        expect(got).toEqual(range(total))
      }),
      { numRuns: 120 },
    )
    expect(faultsInjected).toBeGreaterThan(150) // faults that struck (a planned one after the end marker never does)
    recordFigure({
      scenario: `chaos property (${format}): random cuts, early ends, 5xx/429 with Retry-After, exclusive and inclusive replay`,
      cases,
      faults: faultsInjected,
      records,
      lost,
      duplicated,
    })
  }, 90_000)
})

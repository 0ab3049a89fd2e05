/**
 * Throughput: every contestant over the same corpus at each chunk size, interleaved round-robin
 * (round r starts at contestant r, so no one always runs first or right after a GC-heavy peer),
 * with a forced GC before each run when `--expose-gc` is on. Reports medians over the rounds.
 *
 * @module
 */
import { chunksOf } from './corpus.mjs'
import { median } from './stats.mjs'

/**
 * @param {object} options
 * @param {Array<{name: string, limit?: boolean, run: Function}>} options.contestants
 * @param {(bytes: number) => {buffer: Buffer, lines?: string[], records: number, checksum: number}} options.corpus
 * @param {Array<{chunkSize: number, bytes: number}>} options.sizes
 * @param {number} options.rounds  measured rounds
 * @param {number} options.warmup  unmeasured rounds first
 */
export async function runThroughput({ label, contestants, corpus, sizes, rounds, warmup, log }) {
  const results = []
  for (const { chunkSize, bytes } of sizes) {
    const data = corpus(bytes)
    const input = { chunks: chunksOf(data.buffer, chunkSize), lines: data.lines }
    const times = new Map(contestants.map((c) => [c.name, []]))
    for (let round = 0; round < warmup + rounds; round++) {
      for (let k = 0; k < contestants.length; k++) {
        const contestant = contestants[(round + k) % contestants.length]
        globalThis.gc?.()
        const started = performance.now()
        const tally = await contestant.run(input)
        const ms = performance.now() - started
        if (tally.records !== data.records || tally.checksum !== data.checksum) {
          throw new Error(
            `${label} ${contestant.name} at ${chunkSize} B chunks got ${tally.records} records (checksum ${tally.checksum}), ` +
              `expected ${data.records} (checksum ${data.checksum})`,
          )
        }
        if (round >= warmup) times.get(contestant.name).push(ms)
      }
      log(
        `  ${label} ${chunkSize} B chunks: round ${round + 1}/${warmup + rounds}${round < warmup ? ' (warm-up)' : ''}`,
      )
    }
    const limit = contestants.find((c) => c.limit)
    const rows = contestants.map((c) => {
      const ms = median(times.get(c.name))
      return {
        name: c.name,
        limit: c.limit === true,
        baseline: c.baseline === true,
        variant: c.variant === true,
        floor: c.floor === true,
        ms,
        times: times.get(c.name),
        mbPerS: data.buffer.length / 1e6 / (ms / 1000),
        recordsPerS: data.records / (ms / 1000),
      }
    })
    const limitMs = rows.find((r) => r.name === limit.name).ms
    const sluiceMs = rows.find((r) => r.name === 'sluice').ms
    for (const row of rows) {
      row.vsLimit = limitMs / row.ms
      row.vsSluice = sluiceMs / row.ms
    }
    results.push({ chunkSize, bytes: data.buffer.length, records: data.records, rounds, rows })
  }
  return results
}

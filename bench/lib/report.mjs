/**
 * The results as Markdown: the machine line, one table per section, and the targets of issue 7
 * checked against the figures just measured.
 *
 * @module
 */
import { MODE_LABELS } from './chart.mjs'
import { fixed, formatBytes } from './stats.mjs'

const MiB = 2 ** 20

function throughputTable(sizes) {
  const head = `| contestant | ${sizes.map((s) => `${formatBytes(s.chunkSize)} chunks`).join(' | ')} |`
  const rule = `|---|${sizes.map(() => '---:').join('|')}|`
  const names = sizes[0].rows.map((r) => r.name)
  const rows = names.map((name) => {
    const cells = sizes.map((s) => {
      const r = s.rows.find((row) => row.name === name)
      return `${fixed(r.mbPerS, 1)} MB/s · ${fixed(r.vsLimit)}x limit · ${fixed(r.vsSluice)}x sluice`
    })
    return `| ${name === 'sluice' ? '**sluice**' : name} | ${cells.join(' | ')} |`
  })
  const corpus = sizes
    .map((s) => `${formatBytes(s.chunkSize)}: ${formatBytes(s.bytes)}, ${s.records} records, ${s.rounds} rounds`)
    .join('; ')
  return [head, rule, ...rows, '', `Corpus and rounds per chunk size: ${corpus}.`].join('\n')
}

/** How a stream-form floor contestant compares with the same code without the TransformStream. */
function floorNote(floor, plain, what) {
  if (!floor || !plain) return ''
  return ` (floor: ${floor.name} makes ${fixed(floor.mbPerS / plain.mbPerS)}x of ${what})`
}

/** The targets, each with the measured figure and whether it holds. */
export function targets(results) {
  const out = []
  if (results.ndjson) {
    for (const size of results.ndjson) {
      const row = (name) => size.rows.find((r) => r.name === name)
      const sluice = row('sluice')
      const bare = row('bare streaming loop')
      const stream = row('sluice NdjsonDecoderStream')
      const floor = size.rows.find((r) => r.floor)
      const at = formatBytes(size.chunkSize)
      if (bare)
        out.push({
          target: `NDJSON at ${at} chunks ≥ 0.95x the bare streaming loop`,
          measured: `${fixed(sluice.mbPerS / bare.mbPerS)}x`,
          ok: sluice.mbPerS / bare.mbPerS >= 0.95,
        })
      const peers = size.rows.filter((r) => !r.limit && !r.baseline && !r.variant && r.name !== 'sluice')
      const best = peers.reduce((a, b) => (a.mbPerS > b.mbPerS ? a : b))
      out.push({
        target: `NDJSON ahead of every peer at ${at} chunks`,
        measured: `sluice ${fixed(sluice.mbPerS, 1)} MB/s; best peer ${best.name} ${fixed(best.mbPerS, 1)} MB/s (sluice ${fixed(sluice.mbPerS / best.mbPerS)}x)`,
        ok: sluice.mbPerS > best.mbPerS,
      })
      if (stream)
        out.push({
          target: `NdjsonDecoderStream at ${at} chunks ≥ 0.8x decodeNdjson`,
          measured: `${fixed(stream.mbPerS / sluice.mbPerS)}x${floorNote(floor, bare, 'the bare loop')}`,
          ok: stream.mbPerS / sluice.mbPerS >= 0.8,
        })
    }
  }
  if (results.sse) {
    for (const size of results.sse) {
      const sluice = size.rows.find((r) => r.name === 'sluice')
      const stream = size.rows.find((r) => r.name === 'sluice SseDecoderStream')
      const fes = size.rows.find((r) => r.name.startsWith('fetch-event-source'))
      const floor = size.rows.find((r) => r.floor)
      const limit = size.rows.find((r) => r.limit)
      const at = formatBytes(size.chunkSize)
      const bar = size.chunkSize >= 1536 ? 0.95 : 0.85
      out.push({
        target: `SSE for await at ${at} chunks ≥ ${bar}x eventsource-parser createParser's callback`,
        measured: `${fixed(sluice.vsLimit)}x`,
        ok: sluice.vsLimit >= bar,
      })
      if (stream)
        out.push({
          target: `SseDecoderStream at ${at} chunks ≥ 0.8x decodeSse`,
          measured: `${fixed(stream.mbPerS / sluice.mbPerS)}x${floorNote(floor, limit, 'its read loop')}`,
          ok: stream.mbPerS / sluice.mbPerS >= 0.8,
        })
      out.push({
        target: `SSE at ${at} chunks ≥ 2x fetch-event-source`,
        measured: `${fixed(sluice.mbPerS / fes.mbPerS)}x`,
        ok: sluice.mbPerS / fes.mbPerS >= 2,
      })
    }
  }
  if (results.memory) {
    const runs = results.memory.runs
    const sizes = [...new Set(runs.map((r) => r.size))].sort((a, b) => a - b)
    const small = sizes[0]
    const large = sizes.at(-1)
    const find = (mode, size) => runs.find((r) => r.mode === mode && r.size === size)
    const sl = find('sluice', large)
    const bl = find('bare', large)
    const ss = find('sluice', small)
    const tl = find('text', large)
    if (sl && bl)
      out.push({
        target: `sluice peak RSS at ${formatBytes(large)} ≤ bare read loop + 10%`,
        measured: `${fixed(sl.maxRss / MiB, 1)} vs ${fixed(bl.maxRss / MiB, 1)} MiB (${fixed(sl.maxRss / bl.maxRss)}x)`,
        ok: sl.maxRss <= bl.maxRss * 1.1,
      })
    if (sl && ss && small !== large)
      out.push({
        target: `sluice peak RSS the same at ${formatBytes(small)} as at ${formatBytes(large)} (within 10%)`,
        measured: `${fixed(ss.maxRss / MiB, 1)} vs ${fixed(sl.maxRss / MiB, 1)} MiB (${fixed(sl.maxRss / ss.maxRss)}x)`,
        ok: sl.maxRss <= ss.maxRss * 1.1,
      })
    if (sl && sl.samples.length > 4) {
      const half = sl.bytes / 2
      const peak = (samples) => Math.max(...samples.map((x) => x[1]))
      const first = peak(sl.samples.filter((x) => x[0] <= half))
      const second = peak(sl.samples.filter((x) => x[0] > half))
      out.push({
        target: `sluice RSS flat along the ${formatBytes(large)} stream (second half's peak within 10% of the first half's)`,
        measured: `${fixed(first / MiB, 1)} MiB then ${fixed(second / MiB, 1)} MiB (${fixed(second / first)}x)`,
        ok: second <= first * 1.1,
      })
    }
    if (tl && large > results.memory.maxStringLength)
      out.push({
        target: `store-and-forward cannot hold ${formatBytes(large)} as one string`,
        measured: tl.error
          ? `failed after ${fixed(tl.bytes / MiB, 0)} MiB received, peak RSS ${fixed(tl.maxRss / MiB, 0)} MiB: ${tl.error}`
          : `did not fail (peak RSS ${fixed(tl.maxRss / MiB, 0)} MiB)`,
        ok: Boolean(tl.error),
      })
  }
  return out
}

export function markdown(results) {
  const parts = []
  const measured = `sluice at commit ${results.sluice.commit}${results.sluice.dirty ? ' plus uncommitted changes in packages/sluice/src' : ''}`
  parts.push(
    `Machine: ${results.machine.line}. Measured: ${measured}. Run: \`${results.command}\`, ${results.date}, ${fixed(results.seconds, 0)} s in all; 1-minute load average ${fixed(results.load.start)} before, ${fixed(results.load.end)} after (the load before is other work sharing the cores).`,
  )
  parts.push('')
  parts.push('![benchmark chart](bench/results/chart.svg)')
  const t = targets(results)
  if (t.length) {
    parts.push('', '### Targets', '', '| target | measured | met |', '|---|---|:---:|')
    for (const row of t) parts.push(`| ${row.target} | ${row.measured} | ${row.ok ? 'yes' : '**no**'} |`)
  }
  if (results.ndjson) {
    parts.push(
      '',
      '### NDJSON throughput',
      '',
      'Median MB/s (10^6 bytes of NDJSON per second), then the ratio to the `JSON.parse`-alone limit and to sluice (above 1x: faster than sluice).',
      '',
    )
    parts.push(throughputTable(results.ndjson))
  }
  if (results.sse) {
    parts.push(
      '',
      '### SSE throughput',
      '',
      'Median MB/s, ratio to the bare `createParser` callback (the limit) and to sluice.',
      '',
    )
    parts.push(throughputTable(results.sse))
  }
  if (results.memory) {
    const m = results.memory
    parts.push('', '### Memory: peak RSS of the consumer process', '')
    parts.push('| consumer | response | peak RSS | time | records | result |', '|---|---:|---:|---:|---:|---|')
    for (const r of m.runs) {
      parts.push(
        `| ${MODE_LABELS[r.mode]} | ${formatBytes(r.size)} | ${fixed(r.maxRss / MiB, 1)} MiB | ${fixed(r.ms / 1000, 1)} s | ${r.mode === 'bare' || r.error ? 'n/a' : r.records} | ${r.error ? `failed: ${r.error}` : 'ok'} |`,
      )
    }
    const texts = m.runs.filter((r) => r.mode === 'text')
    const held = texts.filter((r) => !r.error).sort((a, b) => b.bytes - a.bytes)[0]
    const failed = texts.filter((r) => r.error).sort((a, b) => a.bytes - b.bytes)[0]
    parts.push(
      '',
      `V8's longest string on this Node: \`buffer.constants.MAX_STRING_LENGTH\` = ${m.maxStringLength} UTF-16 units.`,
    )
    if (held && failed) {
      parts.push(
        `\`res.text()\` held a body of ${held.bytes} bytes and failed on one of ${failed.bytes} bytes: the limit bound the body's byte length, although this body decodes to only ${fixed(m.unitsPerByte, 3)} UTF-16 units per byte.`,
      )
    }
  }
  if (results.latency) {
    const l = results.latency
    parts.push('', '### Latency: server write to consumer loop', '')
    parts.push(
      `${l.count} records, one per write, ${l.intervalMs} ms apart; the first ${l.discard} are warm-up and not counted.`,
      '',
    )
    parts.push('| consumer | p50 | p90 | p99 | max |', '|---|---:|---:|---:|---:|')
    for (const r of l.runs)
      parts.push(
        `| ${MODE_LABELS[r.mode]} | ${fixed(r.p50, 3)} ms | ${fixed(r.p90, 3)} ms | ${fixed(r.p99, 3)} ms | ${fixed(r.max, 3)} ms |`,
      )
  }
  return parts.join('\n')
}

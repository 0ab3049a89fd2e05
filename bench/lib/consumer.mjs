/**
 * The benchmark's HTTP consumer, run as a child process so its peak RSS is its own:
 * `node consumer.mjs <mode> <url>` fetches the URL and prints one JSON line of results.
 *
 * Modes:
 * - `sluice`: `for await` over `decodeNdjson(res)`, touching each record.
 * - `bare`: a read loop over `res.body` that only counts bytes (the floor for any consumer).
 * - `text`: store-and-forward, `await res.text()` then split and parse (V8 caps one string at
 *   `buffer.constants.MAX_STRING_LENGTH` UTF-16 units, so a large enough body cannot be held).
 * - `latency-sluice`, `latency-loop`: per-record delivery latency, with sluice or a hand-written
 *   TextDecoder + indexOf + JSON.parse loop, from the record's `sentNs` stamp to the moment the
 *   consumer's loop body sees it (both `process.hrtime.bigint()`: one monotonic clock).
 *
 * @module
 */
import { decodeNdjson } from 'sluice'

const [mode, url] = process.argv.slice(2)
const started = performance.now()
let bytes = 0
let records = 0
let checksum = 0
// RSS every 100 ms with the bytes received by then: shows whether memory grows with the stream.
const samples = []
const sampler = setInterval(() => samples.push([bytes, process.memoryUsage.rss()]), 100)

/** Counts the body's bytes on the way through, for the RSS samples. */
function counted(body) {
  return body.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        bytes += chunk.length
        controller.enqueue(chunk)
      },
    }),
  )
}

const out = { mode }
try {
  const res = await fetch(url)
  if (mode === 'sluice') {
    for await (const record of decodeNdjson(counted(res.body))) {
      records++
      checksum += record.seq
    }
  } else if (mode === 'bare') {
    const reader = res.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      bytes += value.length
    }
  } else if (mode === 'text') {
    // The same as `await res.text()`, with the bytes counted as they arrive for the RSS samples.
    const text = await new Response(counted(res.body), { headers: res.headers }).text()
    for (const line of text.split('\n')) {
      if (line === '') continue
      records++
      checksum += JSON.parse(line).seq
    }
  } else if (mode === 'latency-sluice' || mode === 'latency-loop') {
    const latencies = []
    const see = (record) => {
      latencies.push(Number(process.hrtime.bigint() - BigInt(record.sentNs)) / 1e6)
      records++
    }
    if (mode === 'latency-sluice') {
      for await (const record of decodeNdjson(res)) see(record)
    } else {
      const reader = res.body.getReader()
      const decoder = new TextDecoder()
      let rest = ''
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        rest += decoder.decode(value, { stream: true })
        let start = 0
        let lf
        while ((lf = rest.indexOf('\n', start)) !== -1) {
          see(JSON.parse(rest.slice(start, lf)))
          start = lf + 1
        }
        rest = rest.slice(start)
      }
    }
    out.latenciesMs = latencies
  } else {
    throw new Error(`unknown mode ${mode}`)
  }
} catch (error) {
  out.error = `${error.name}: ${error.message}`
}
clearInterval(sampler)
out.bytes = bytes
out.records = records
out.checksum = checksum
out.ms = performance.now() - started
// maxRSS is in kilobytes (getrusage ru_maxrss on Linux).
out.maxRss = process.resourceUsage().maxRSS * 1024
out.samples = samples
process.stdout.write(`${JSON.stringify(out)}\n`)

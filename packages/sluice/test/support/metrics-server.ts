/**
 * A stateless metrics API in its own process, for restart tests: record n is a pure function of
 * n, served with sluice-server from the position in `Last-Event-ID`, one record every few ms.
 * Usage: node --conditions=sluice-source --import tsx metrics-server.ts <port> <total>
 */
import { lastEventId, ndjsonResponse } from 'sluice-server'
import { serve } from 'sluice-server/node'

const port = Number(process.argv[2])
const total = Number(process.argv[3] ?? 200)

export function metric(seq: number) {
  return { seq, rps: 1000 + ((seq * 37) % 250), p99: 20 + ((seq * 13) % 40), host: `api-${seq % 3}` }
}

const server = await serve(
  (request) => {
    const last = lastEventId(request)
    const from = last === undefined ? 0 : Number(last) + 1
    async function* metrics() {
      for (let seq = from; seq < total; seq++) {
        await new Promise((resolve) => setTimeout(resolve, 2))
        yield metric(seq)
      }
    }
    return ndjsonResponse(metrics(), { idOf: (m) => m.seq, heartbeatMs: 0 })
  },
  { port },
)
process.stdout.write(`listening ${server.url}\n`)

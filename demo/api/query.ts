/**
 * The demo's "query" view, server side: `GET /api/query.ndjson?rows=N` streams a generated table of
 * N rows (1 to 1,000,000) as NDJSON, one row at a time, as a database cursor would (the rows are a
 * pure function of their id: nothing is stored). Resumable: `Last-Event-ID: <id>` continues after
 * that id. The Postgres version of the same route is packages/sluice-server/examples/postgres-cursor.ts.
 */
import { lastEventId, ndjsonResponse } from 'sluice-server'

export interface QueryRow {
  id: number
  region: string
  sku: string
  quantity: number
  price: number
}

const REGIONS = ['eu-west', 'us-east', 'us-west', 'ap-south', 'sa-east'] as const
const MAX_QUERY_ROWS = 1_000_000

/** Row `id` of the generated table (deterministic, so a resumed stream continues the same table). */
function queryRow(id: number): QueryRow {
  const h = Math.imul(id, 2654435761) >>> 0
  return {
    id,
    region: REGIONS[h % REGIONS.length]!,
    sku: `SKU-${(h % 9000) + 1000}`,
    quantity: (h % 50) + 1,
    price: Math.round(((h >>> 8) % 100_000) + 99) / 100,
  }
}

/** Rows after `afterId` up to `count`, pulled one at a time; a cursor yields in batches, the body still pulls one row per record. */
function* rows(afterId: number, count: number): Generator<QueryRow> {
  for (let id = afterId + 1; id <= count; id++) yield queryRow(id)
}

/** `GET /api/query.ndjson?rows=N`. */
export function queryStream(request: Request): Response {
  const url = new URL(request.url)
  const count = Number(url.searchParams.get('rows') ?? 100_000)
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_QUERY_ROWS) {
    return Response.json({ error: `rows must be 1 to ${MAX_QUERY_ROWS}` }, { status: 400 })
  }
  const last = lastEventId(request)
  const afterId = last !== undefined && /^\d+$/.test(last) ? Number(last) : 0
  return ndjsonResponse(rows(afterId, count), { idOf: (row) => row.id })
}

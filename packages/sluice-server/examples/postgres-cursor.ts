/**
 * Example: a PostgreSQL table streamed to the browser as NDJSON through a server-side cursor, with
 * the `postgres` driver (porsager/postgres). One batch of rows is in memory at a time, whatever the
 * table's size: the cursor is read only when the response body is pulled, so a client that stops
 * reading pauses the query, and a client that leaves ends it (the generator's `finally` closes the
 * cursor and the connection goes back to the pool).
 *
 * Run it against your database (the table needs an index on `id`: `ORDER BY id` then walks the
 * index, so the first row leaves at once instead of after a sort of the whole table):
 *
 *     DATABASE_URL=postgres://user@127.0.0.1/db PORT=8080 \
 *       node --import tsx --conditions=sluice-source examples/postgres-cursor.ts
 *
 * Routes: `GET /rows?table=<name>` streams the table (resumable: `Last-Event-ID: <id>` continues
 * after that id), `GET /stats` reports rows fetched from the database and the process's RSS.
 * test/stack/postgres.test.ts runs it against a Postgres it starts, with 1,000,000 rows.
 *
 * @module
 */
import postgres from 'postgres'
import { lastEventId, ndjsonResponse } from 'sluice-server'
import { type FetchHandler, serve } from 'sluice-server/node'

/** One row of the example tables: `id int primary key, name text, value float8`. */
export interface Row {
  id: number
  name: string
  value: number
}

/** What the app has fetched from the database so far, for `/stats`. */
export interface CursorStats {
  rowsFetched: number
  streamsOpen: number
}

/** Rows per cursor fetch: the most the server holds per stream, whatever the table's size. */
export const BATCH_ROWS = 500

/** The tables `/rows` may stream, as `table` query values (never interpolate a client's table name). */
export type Tables = Readonly<Record<string, string>>

/**
 * Rows of `table` with `id` greater than `afterId`, in `id` order, fetched `BATCH_ROWS` at a time
 * through a server-side cursor. Returning early (the client left) closes the cursor.
 */
async function* rowsOf(sql: postgres.Sql, table: string, afterId: number, stats: CursorStats): AsyncGenerator<Row> {
  stats.streamsOpen++
  try {
    const query = sql<Row[]>`select id, name, value from ${sql(table)} where id > ${afterId} order by id`
    for await (const batch of query.cursor(BATCH_ROWS)) {
      stats.rowsFetched += batch.length
      yield* batch
    }
  } finally {
    stats.streamsOpen--
  }
}

/** The example's fetch handler: `/rows?table=` and `/stats`. */
export function cursorApp(
  sql: postgres.Sql,
  tables: Tables,
  stats: CursorStats = { rowsFetched: 0, streamsOpen: 0 },
): FetchHandler {
  return (request) => {
    const url = new URL(request.url)
    if (url.pathname === '/stats') return Response.json({ ...stats, rssBytes: process.memoryUsage().rss })
    if (url.pathname !== '/rows') return new Response('not found', { status: 404 })
    const table = tables[url.searchParams.get('table') ?? '']
    if (table === undefined)
      return new Response(`unknown table; one of: ${Object.keys(tables).join(', ')}`, { status: 400 })
    const afterId = Number(lastEventId(request) ?? 0) // ids start at 1
    if (!Number.isSafeInteger(afterId)) return new Response('bad Last-Event-ID', { status: 400 })
    return ndjsonResponse(rowsOf(sql, table, afterId, stats), { idOf: (row) => row.id })
  }
}

// Started as a program (not imported by a test): serve on $PORT against $DATABASE_URL.
if (import.meta.url === `file://${process.argv[1]}`) {
  const databaseUrl = process.env['DATABASE_URL']
  if (databaseUrl === undefined) throw new Error('Cannot start: set DATABASE_URL (postgres://user@host:port/db)')
  // `max`: connections in the pool, so at most that many tables stream at once; the rest wait.
  const sql = postgres(databaseUrl, { max: 10, onnotice: () => undefined })
  const tables = Object.fromEntries((process.env['TABLES'] ?? 'readings').split(',').map((name) => [name, name]))
  const app = await serve(cursorApp(sql, tables), { port: Number(process.env['PORT'] ?? 8080) })
  console.log(`listening on ${app.url}`)
  process.once('SIGTERM', () => void app.close().then(() => sql.end({ timeout: 1 })))
}

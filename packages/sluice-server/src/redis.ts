/**
 * `sluice-server/redis`: a {@link Feed} on Redis Streams, shared by every server instance, so a
 * client resumes from its `Last-Event-ID` on whichever instance answers, after deploys and
 * restarts. Only apps that import this subpath need the `redis` (node-redis) package.
 *
 * Layout per feed key `k` (one hash slot, thanks to the `{k}` hash tag, so a cluster shards by key):
 * - `sluice:{k}`: the stream. Each entry has `e` (the epoch), `n` (its number: 1, 2, 3... in the
 *   epoch) and `d` (the record's JSON), or `x: end` for the end marker. `XADD ... MAXLEN ~ maxLen`
 *   trims it, and with `maxAgeMs` an `XTRIM ... MINID ~` in the same script drops the entries older
 *   than that (stream ids start with Redis's clock in milliseconds).
 * - `sluice:{k}:meta`: a hash with `epoch` (created with the first publish), `n`, `last`, `ended`.
 * - `sluice:{k}:msg:<msgId>`: what an idempotent publish wrote, for `msgIdTtlMs`.
 *
 * Ids sent to clients are `<epoch>:<stream id>`. Redis reuses stream ids after it restarts empty
 * (they come from its clock), so the epoch is what tells a reset from continuity. Trimming is
 * silent in Redis (`XRANGE` and `XREAD` just start at what is left), so a resume reads inclusively
 * from its position and checks that the position itself is still held, and a reader checks that
 * each entry's number follows the last one's: any hole is a gap, never a silent jump.
 *
 * @see https://redis.io/docs/latest/develop/data-types/streams/
 * @module
 */
import {
  checkKey,
  EntryIterator,
  type Feed,
  type FeedEntry,
  type FeedReadOptions,
  FeedUnavailableError,
  type Gap,
  type GapReason,
  maxAgeOf,
  maxLenOf,
  newEpoch,
  recordEntry,
  recordJson,
  splitId,
} from './feed.js'

/**
 * The part of a node-redis (`redis` v5) client that `redisFeed` uses: a connected
 * `createClient()`. Give it an `error` listener: node-redis emits `error` on a lost connection,
 * and an `EventEmitter` with none crashes the process.
 */
export interface RedisClientLike {
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>
  duplicate(): RedisClientLike
  connect(): Promise<unknown>
  // biome-ignore lint/suspicious/noExplicitAny: node-redis types its listeners per event; any is what accepts them all
  on(event: 'error' | 'ready', listener: (...args: any[]) => void): unknown
  readonly isReady: boolean
  destroy(): void
}

/** Options of {@link redisFeed}. */
export interface RedisFeedOptions {
  /** Entries kept per key, roughly (`MAXLEN ~`: Redis trims whole macro nodes, so a few more stay). Default 100 000. */
  maxLen?: number
  /**
   * Entries older than this are trimmed, roughly (`MINID ~`, whole macro nodes: some stay a little
   * longer), at each publish to the key, measured on Redis's clock (the stream ids' milliseconds).
   * Readers resuming before them get a `'trimmed'` gap, as with `maxLen`. Default: no age limit.
   */
  maxAgeMs?: number
  /** Prefix of every Redis key. Default `'sluice:'`. */
  prefix?: string
  /** How long a `msgId` is remembered for idempotent publish, in milliseconds. Default 86 400 000 (a day). */
  msgIdTtlMs?: number
  /** How long one blocking `XREAD` of the tail waits, in milliseconds. Default 5 000. */
  blockMs?: number
  /** Entries per `XRANGE` page and per `XREAD`. Default 500. */
  pageSize?: number
  /** Each command's timeout (the blocking read's is `blockMs` more), in milliseconds. Default 5 000. */
  timeoutMs?: number
}

// KEYS: stream, meta, msg. ARGV: new epoch, maxLen, kind ('d' | 'end'), msgId ('' for none), msgId ttl ms, data,
// maxAgeMs ('0' for none). Atomic: the epoch is created, the msgId checked, the entry appended and the msgId
// written in one step, so a retried publish (after a timeout) never writes twice. XADD takes one trim strategy
// (MAXLEN or MINID): the age trim is an XTRIM, its threshold the new id's milliseconds minus maxAgeMs
// (Redis's own clock, so app servers' clocks never matter; %.0f: Lua would print 1.7e+12).
const PUBLISH_SCRIPT = `
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[2], 'epoch', epoch)
end
if ARGV[4] ~= '' then
  local seen = redis.call('GET', KEYS[3])
  if seen then return seen end
end
if redis.call('HEXISTS', KEYS[2], 'ended') == 1 then return redis.error_reply('SLUICE_ENDED') end
local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
local id
if ARGV[3] == 'end' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', epoch, 'n', n, 'x', 'end')
  redis.call('HSET', KEYS[2], 'ended', id)
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', epoch, 'n', n, 'd', ARGV[6])
end
if ARGV[7] ~= '0' then
  local ms = tonumber(string.match(id, '^(%d+)'))
  redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%.0f', ms - tonumber(ARGV[7])))
end
redis.call('HSET', KEYS[2], 'last', id)
local full = epoch .. ':' .. id
if ARGV[4] ~= '' then redis.call('SET', KEYS[3], full, 'PX', ARGV[5]) end
return full
`

/** One stream entry as read from Redis. */
interface Raw {
  id: string
  epoch: string
  /** Its number in the epoch: consecutive entries differ by one, whatever trimming did. */
  n: number
  /** The record's JSON; `undefined` on the end marker. */
  json: string | undefined
}

interface Keys {
  stream: string
  meta: string
}

/**
 * A feed on Redis Streams, for several server instances: `client` is a connected node-redis
 * client (publishes and range reads use it; one duplicate connection per feed follows the tail of
 * every key this instance serves, so Redis connections per instance stay two however many
 * clients watch).
 *
 * Durability is Redis's: with `appendonly yes` and `appendfsync always`, a `kill -9` of Redis loses
 * nothing; without persistence, a restart empties it, and every reader hears a `'reset'` gap.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { feedResponse } from 'sluice-server'
 * import { redisFeed } from 'sluice-server/redis'
 *
 * const client = createClient({ url: 'redis://127.0.0.1:6379' })
 * client.on('error', (error) => console.error('redis:', error.message))
 * await client.connect()
 * const feed = redisFeed(client, { maxLen: 100_000 })
 * await feed.publish('metrics', { rps: 42 }, { msgId: 'tick-1' })
 * export const handle = (request: Request) => feedResponse(feed, 'metrics', request)
 * ```
 */
export function redisFeed(client: RedisClientLike, options: RedisFeedOptions = {}): Feed {
  if (client === null || typeof client !== 'object' || typeof client.sendCommand !== 'function') {
    throw new TypeError('Cannot create redisFeed: expected a node-redis client (createClient() from the redis package)')
  }
  const maxLen = maxLenOf(options.maxLen, 100_000)
  const maxAgeMs = maxAgeOf(options.maxAgeMs) ?? 0
  const prefix = options.prefix ?? 'sluice:'
  const msgIdTtlMs = positive(options.msgIdTtlMs ?? 86_400_000, 'msgIdTtlMs')
  const blockMs = positive(options.blockMs ?? 5_000, 'blockMs')
  const pageSize = positive(options.pageSize ?? 500, 'pageSize')
  const timeoutMs = positive(options.timeoutMs ?? 5_000, 'timeoutMs')
  let closed = false
  // One digest, shared: publishes made at once all await this same promise, so they resume (and send
  // their EVALSHA) in call order; a digest each could settle in any order and reorder the first ones.
  let sha: Promise<string> | undefined

  const keysOf = (key: string): Keys => {
    const tag = `${prefix}{${key}}`
    return { stream: tag, meta: `${tag}:meta` }
  }

  /** One command on the shared client; a lost or unready connection is a FeedUnavailableError. */
  const command = async (args: string[]): Promise<unknown> => {
    if (closed) throw new FeedUnavailableError('Cannot use feed: the feed is closed')
    // node-redis queues commands while it reconnects: answer now instead of holding a request.
    if (!client.isReady) throw new FeedUnavailableError('Cannot reach Redis: the client is not connected')
    try {
      return await client.sendCommand(args, { timeout: timeoutMs })
    } catch (error) {
      if (isReplyError(error)) throw error
      throw new FeedUnavailableError(`Cannot reach Redis: ${messageOf(error)}`, { cause: error })
    }
  }

  const append = async (key: string, kind: 'd' | 'end', data: string, msgId: string | undefined): Promise<string> => {
    const keys = keysOf(key)
    const keyArgs = ['3', keys.stream, keys.meta, `${keys.stream}:msg:${msgId ?? ''}`]
    const argv = [newEpoch(), String(maxLen), kind, msgId ?? '', String(msgIdTtlMs), data, String(maxAgeMs)]
    const digest = await (sha ??= sha1(PUBLISH_SCRIPT))
    try {
      return String(await command(['EVALSHA', digest, ...keyArgs, ...argv]))
    } catch (error) {
      // The script cache is empty after a Redis restart (or on another node): send the script itself.
      // Known edge: publishes in flight at once right then retry as each hears NOSCRIPT, so a later one
      // that arrives after the first EVAL may land before an earlier one's retry (await each publish
      // where their order matters across a Redis restart).
      if (!isReplyError(error) || !messageOf(error).startsWith('NOSCRIPT')) throw error
      return String(await command(['EVAL', PUBLISH_SCRIPT, ...keyArgs, ...argv]))
    }
  }

  const tailer = new Tailer(client, keysOf, { blockMs, pageSize, timeoutMs }, command)
  const context: ReaderContext = { keysOf, command, tailer, pageSize }

  return {
    async publish(key, record, publishOptions = {}) {
      checkKey(key)
      const json = recordJson(record)
      const { msgId } = publishOptions
      if (msgId !== undefined && (typeof msgId !== 'string' || msgId === '')) {
        throw new TypeError('Cannot publish: msgId must be a non-empty string')
      }
      try {
        return await append(key, 'd', json, msgId)
      } catch (error) {
        if (isReplyError(error) && messageOf(error).includes('SLUICE_ENDED')) {
          throw new Error(`Cannot publish: the feed "${key}" has ended`)
        }
        throw error
      }
    },
    async end(key) {
      checkKey(key)
      try {
        await append(key, 'end', '', undefined)
      } catch (error) {
        // Ending an ended feed changes nothing.
        if (!(isReplyError(error) && messageOf(error).includes('SLUICE_ENDED'))) throw error
      }
    },
    read<T>(key: string, readOptions: FeedReadOptions = {}): AsyncIterableIterator<FeedEntry<T>> {
      checkKey(key)
      if (closed) throw new FeedUnavailableError('Cannot read feed: the feed is closed')
      return new RedisReader<T>(key, readOptions, context)
    },
    async ready() {
      const reply = await Promise.race([
        command(['PING']),
        new Promise((_, reject) =>
          setTimeout(
            () => reject(new FeedUnavailableError(`Cannot reach Redis: no answer to PING in ${timeoutMs} ms`)),
            timeoutMs,
          ),
        ),
      ])
      if (reply !== 'PONG') throw new FeedUnavailableError(`Cannot reach Redis: PING answered ${String(reply)}`)
    },
    async close() {
      closed = true
      tailer.close()
    },
  }
}

interface ReaderContext {
  keysOf: (key: string) => Keys
  command: (args: string[]) => Promise<unknown>
  tailer: Tailer
  pageSize: number
}

/** The live tail of one key, shared by this instance's readers of it. */
interface Tail {
  /** Where the tailer's next `XREAD` starts (exclusive). */
  cursor: string
  /** The latest entries the tailer read, oldest first, at most `RING` of them. */
  ring: Raw[]
  /** The id just before `ring[0]`: a reader at or after it finds every later entry in the ring. */
  ringAfter: string
  readers: Set<RedisReader<unknown>>
  failed: Error | undefined
}

/** Entries kept in memory per followed key for the readers that are at the tail. */
const RING = 1_024

/**
 * One blocking `XREAD` per feed instance, on its own connection (a blocking command holds the
 * connection it runs on), for every key its readers follow; entries are fanned out to the readers
 * in memory. A reader too far behind the ring pages with `XRANGE` instead.
 */
class Tailer {
  readonly #client: RedisClientLike
  readonly #keysOf: (key: string) => Keys
  readonly #options: { blockMs: number; pageSize: number; timeoutMs: number }
  readonly #command: (args: string[]) => Promise<unknown>
  readonly tails = new Map<string, Tail>()
  #connection: RedisClientLike | undefined
  #connecting: Promise<RedisClientLike> | undefined
  #connectionId: string | undefined
  #running = false
  #closed = false
  /** Bumped when the key set changes; the `XREAD` in flight was sent at `#sentGeneration`. */
  #generation = 0
  #sentGeneration = 0
  #inFlight = false

  constructor(
    client: RedisClientLike,
    keysOf: (key: string) => Keys,
    options: { blockMs: number; pageSize: number; timeoutMs: number },
    command: (args: string[]) => Promise<unknown>,
  ) {
    this.#client = client
    this.#keysOf = keysOf
    this.#options = options
    this.#command = command
  }

  /** Follows `key` from `cursor` (if not followed yet) for `reader`. */
  follow(key: string, cursor: string, reader: RedisReader<unknown>): Tail {
    let tail = this.tails.get(key)
    if (tail === undefined) {
      tail = { cursor, ring: [], ringAfter: cursor, readers: new Set(), failed: undefined }
      this.tails.set(key, tail)
      this.#generation++
      this.#start()
      void this.#interrupt()
    }
    tail.readers.add(reader)
    return tail
  }

  unfollow(key: string, reader: RedisReader<unknown>): void {
    const tail = this.tails.get(key)
    if (tail === undefined || !tail.readers.delete(reader) || tail.readers.size > 0) return
    // Dropped from the next XREAD; the one in flight just returns it once more.
    this.tails.delete(key)
    this.#generation++
  }

  close(): void {
    this.#closed = true
    this.#failAll(new FeedUnavailableError('Cannot read feed: the feed is closed'))
    this.#connection?.destroy()
    this.#connection = undefined
  }

  #start(): void {
    if (this.#running || this.#closed) return
    this.#running = true
    void this.#loop().finally(() => (this.#running = false))
  }

  async #connect(): Promise<RedisClientLike> {
    if (this.#connection !== undefined) return this.#connection
    this.#connecting ??= (async () => {
      const connection = this.#client.duplicate()
      // Without a listener, a lost connection's `error` event would crash the process.
      connection.on('error', () => {})
      // A reconnect is a new Redis client: its id changes.
      connection.on('ready', () => (this.#connectionId = undefined))
      // node-redis retries a first connect for as long as its reconnect strategy says, forever by
      // default: with Redis gone, the readers waiting on this tail would hang instead of being cut.
      const { timeoutMs } = this.#options
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new FeedUnavailableError(`Cannot follow feed: no Redis connection in ${timeoutMs} ms`)),
          timeoutMs,
        )
      })
      try {
        await Promise.race([connection.connect(), timeout])
        if (this.#closed) throw new FeedUnavailableError('Cannot follow feed: the feed is closed')
      } catch (error) {
        connection.destroy()
        throw error
      } finally {
        clearTimeout(timer)
      }
      this.#connection = connection
      return connection
    })().finally(() => (this.#connecting = undefined))
    return this.#connecting
  }

  async #loop(): Promise<void> {
    while (this.tails.size > 0 && !this.#closed) {
      try {
        const connection = await this.#connect()
        // After a lost connection, node-redis reconnects it: give it `timeoutMs` to come back.
        for (let waited = 0; !connection.isReady && waited < this.#options.timeoutMs; waited += 50) {
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        if (!connection.isReady) throw new FeedUnavailableError('Cannot follow feed: the Redis connection is down')
        this.#connectionId ??= String(
          await connection.sendCommand(['CLIENT', 'ID'], { timeout: this.#options.timeoutMs }),
        )
        const keys = [...this.tails.keys()]
        if (keys.length === 0) return // every reader left while connecting
        const cursors = keys.map((key) => this.tails.get(key)!.cursor)
        const streams = keys.map((key) => this.#keysOf(key).stream)
        const { blockMs, pageSize, timeoutMs } = this.#options
        this.#sentGeneration = this.#generation
        this.#inFlight = true
        const reply = await connection
          .sendCommand(
            ['XREAD', 'COUNT', String(pageSize), 'BLOCK', String(blockMs), 'STREAMS', ...streams, ...cursors],
            {
              timeout: blockMs + timeoutMs,
            },
          )
          .finally(() => (this.#inFlight = false))
        for (const [stream, raws] of streamsOf(reply)) {
          const key = keys[streams.indexOf(stream)]
          const tail = key === undefined ? undefined : this.tails.get(key)
          if (tail === undefined || raws.length === 0) continue
          for (const raw of raws) if (compareIds(raw.id, tail.cursor) > 0) tail.ring.push(raw)
          tail.cursor = raws.at(-1)!.id
          if (tail.ring.length > RING) {
            const dropped = tail.ring.splice(0, tail.ring.length - RING)
            tail.ringAfter = dropped.at(-1)!.id
          }
          for (const reader of tail.readers) reader.wake()
        }
      } catch (error) {
        if (this.#closed) return
        // The connection was lost: every reader's response is cut (no end marker) and its client
        // resumes, through a range read that checks the epoch, on this or another instance.
        this.#failAll(
          error instanceof FeedUnavailableError
            ? error
            : new FeedUnavailableError(`Cannot follow feed: ${messageOf(error)}`, { cause: error }),
        )
        return
      }
    }
  }

  #failAll(error: Error): void {
    const tails = [...this.tails.values()]
    this.tails.clear()
    this.#generation++
    for (const tail of tails) {
      tail.failed = error
      for (const reader of tail.readers) reader.wake()
    }
  }

  /**
   * Wakes the blocked `XREAD` so the next one includes a new key. The unblock goes over another
   * connection and may reach Redis before the `XREAD` does: try again until the XREAD in flight
   * is one sent after the change (bounded by `blockMs`, when it returns anyway).
   */
  async #interrupt(): Promise<void> {
    const target = this.#generation
    for (let attempt = 0; attempt < 200 && !this.#closed; attempt++) {
      if (!this.#inFlight || this.#sentGeneration >= target) return
      const id = this.#connectionId
      if (id !== undefined) {
        try {
          if ((await this.#command(['CLIENT', 'UNBLOCK', id])) === 1) return
        } catch {
          return // Redis is gone: the loop fails its readers anyway.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 5 + attempt))
    }
  }
}

class RedisReader<T> extends EntryIterator<T> {
  readonly #key: string
  readonly #context: ReaderContext
  readonly #keys: Keys
  /** The stream id of the last entry taken (exclusive start of the next read); `undefined`: from the oldest. */
  #cursor: string | undefined
  /** The epoch of the history this reader follows; `undefined` until it sees one. */
  #epoch: string | undefined
  /** The client id of the last record yielded, or the position resumed after. */
  #last: string | undefined
  /** The number of the entry at `#cursor`, once known: the next entry must be `#n + 1`. */
  #n: number | undefined
  /** Whether the next range read must check that `#cursor` is still held. */
  #verify = false
  #queue: Raw[] = []
  #gap: Gap | undefined
  #tail: Tail | undefined
  #from: 'now' | undefined
  #started = false

  constructor(key: string, options: FeedReadOptions, context: ReaderContext) {
    super(options.signal, options.live)
    this.#key = key
    this.#context = context
    this.#keys = context.keysOf(key)
    const { after } = options
    if (after !== undefined) {
      this.#last = after
      const parts = splitId(after)
      if (parts === undefined || !isStreamId(parts.position)) {
        this.#gap = { reason: 'unknown', lastEventId: after, resumeFrom: null }
      } else {
        this.#cursor = parts.position
        this.#epoch = parts.epoch
        this.#verify = true
      }
    } else if (options.from === 'now') {
      this.#from = 'now'
    }
  }

  protected override release(): void {
    if (this.#tail !== undefined) this.#context.tailer.unfollow(this.#key, this as RedisReader<unknown>)
    this.#tail = undefined
  }

  protected async pull(): Promise<FeedEntry<T> | undefined> {
    if (!this.#started) await this.#start()
    for (;;) {
      if (this.stopped) return undefined
      if (this.#gap !== undefined) {
        const gap = this.#gap
        this.#gap = undefined
        return { gap }
      }
      const raw = this.#queue.shift()
      if (raw !== undefined) {
        if (this.#epoch !== undefined && raw.epoch !== this.#epoch) {
          // A history that is not the one this reader was following: Redis restarted empty or failed over.
          await this.#restart('reset')
          continue
        }
        if (this.#n !== undefined && raw.n !== this.#n + 1) {
          // Entries between were trimmed before this reader (or the tail it follows) got to them.
          await this.#restart('trimmed')
          continue
        }
        this.#n = raw.n
        this.#epoch = raw.epoch
        this.#cursor = raw.id
        if (raw.json === undefined) return undefined // the end marker
        const id = `${raw.epoch}:${raw.id}`
        this.#last = id
        return recordEntry<T>(id, raw.json)
      }
      await this.#fill()
    }
  }

  async #start(): Promise<void> {
    this.#started = true
    if (this.#gap !== undefined) {
      // A malformed id: say so, with where the history now starts.
      const page = await this.#range('-', this.#context.pageSize)
      this.#queue = page
      this.#gap.resumeFrom = page[0] === undefined ? null : `${page[0].epoch}:${page[0].id}`
      this.#cursor = undefined
      if (page.length < this.#context.pageSize) this.#followTail()
    } else if (this.#from === 'now') {
      const meta = (await this.#context.command(['HMGET', this.#keys.meta, 'epoch', 'last', 'n', 'ended'])) as Array<
        string | null
      >
      const [epoch, last, n, ended] = meta
      if (typeof ended === 'string') {
        this.stop() // an ended feed has no "now"
        return
      }
      this.#cursor = last ?? '0-0'
      if (typeof epoch === 'string') this.#epoch = epoch
      if (typeof n === 'string') this.#n = Number(n)
    }
  }

  /** Fills the queue: from the ring when this reader is at the tail, else with a range read. */
  async #fill(): Promise<void> {
    const tail = this.#tail
    if (tail !== undefined) {
      if (tail.failed !== undefined) throw tail.failed
      const cursor = this.#cursor ?? '0-0'
      if (compareIds(cursor, tail.ringAfter) >= 0) {
        const newer = newerThan(tail.ring, cursor, this.#context.pageSize)
        if (newer.length > 0) this.#queue = newer
        else await this.sleep()
        return
      }
      // Fell behind the ring: page through Redis until caught up.
    }
    const { pageSize } = this.#context
    let page: Raw[]
    if (this.#cursor === undefined) {
      page = await this.#range('-', pageSize)
    } else if (this.#verify) {
      page = await this.#range(this.#cursor, pageSize + 1)
      if (page[0]?.id !== this.#cursor || (this.#epoch !== undefined && page[0].epoch !== this.#epoch)) {
        await this.#restart(await this.#gapReason(page))
        return
      }
      this.#n = page.shift()!.n
    } else {
      page = await this.#range(`(${this.#cursor}`, pageSize)
    }
    // From here on every range read starts at a held entry, and is checked (trimming is silent).
    this.#verify = true
    this.#queue = page
    if (page.length < pageSize) {
      if (this.#tail === undefined) this.#followTail()
      else if (page.length === 0) await this.sleep()
    }
  }

  #followTail(): void {
    // Stopped while a range read was in flight: release() already ran, so a tail followed now would never be left.
    if (this.stopped) return
    const cursor = this.#queue.at(-1)?.id ?? this.#cursor ?? '0-0'
    this.#tail = this.#context.tailer.follow(this.#key, cursor, this as RedisReader<unknown>)
  }

  /** Why `#cursor` is not held: epoch changed (reset), older than the oldest held (trimmed), or never issued (unknown). */
  async #gapReason(page: Raw[]): Promise<GapReason> {
    const [epoch, last] = (await this.#context.command(['HMGET', this.#keys.meta, 'epoch', 'last'])) as Array<
      string | null
    >
    if (epoch !== this.#epoch) return 'reset'
    const cursor = this.#cursor!
    if (page.length > 0) {
      const oldest = (await this.#range('-', 1))[0]
      return oldest !== undefined && compareIds(cursor, oldest.id) < 0 ? 'trimmed' : 'unknown'
    }
    return typeof last === 'string' && compareIds(cursor, last) <= 0 ? 'trimmed' : 'unknown'
  }

  /** Declares a gap (when this reader has a position) and starts again from the oldest entry held. */
  async #restart(reason: GapReason): Promise<void> {
    const page = await this.#range('-', this.#context.pageSize)
    const lastEventId = this.#last
    this.#queue = page
    this.#cursor = undefined
    this.#epoch = undefined
    this.#n = undefined
    this.#verify = true
    if (lastEventId !== undefined) {
      this.#gap = { reason, lastEventId, resumeFrom: page[0] === undefined ? null : `${page[0].epoch}:${page[0].id}` }
    }
    if (this.#tail !== undefined) {
      this.#context.tailer.unfollow(this.#key, this as RedisReader<unknown>)
      this.#tail = undefined
    }
    if (page.length < this.#context.pageSize) this.#followTail()
  }

  async #range(start: string, count: number): Promise<Raw[]> {
    const reply = await this.#context.command(['XRANGE', this.#keys.stream, start, '+', 'COUNT', String(count)])
    return rawsOf(reply)
  }
}

/** Entries of the ring newer than `cursor`, at most `limit`. */
function newerThan(ring: Raw[], cursor: string, limit: number): Raw[] {
  let i = ring.length
  while (i > 0 && compareIds(ring[i - 1]!.id, cursor) > 0) i--
  return ring.slice(i, i + limit)
}

/** Entries of an `XRANGE` reply (RESP2 and RESP3 alike: an array of `[id, [field, value, ...]]`). */
function rawsOf(reply: unknown): Raw[] {
  if (!Array.isArray(reply)) return []
  const raws: Raw[] = []
  for (const item of reply) {
    if (!Array.isArray(item)) continue
    const [id, fields] = item as [unknown, unknown]
    if (typeof id !== 'string' || !Array.isArray(fields)) continue
    let epoch = ''
    let n = Number.NaN
    let json: string | undefined
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = String(fields[i])
      if (name === 'e') epoch = String(fields[i + 1])
      else if (name === 'n') n = Number(fields[i + 1])
      else if (name === 'd') json = String(fields[i + 1])
    }
    raws.push({ id, epoch, n, json })
  }
  return raws
}

/** `[stream, entries]` pairs of an `XREAD` reply: RESP2 an array of pairs, RESP3 a map. */
function streamsOf(reply: unknown): Array<[string, Raw[]]> {
  if (reply === null || reply === undefined) return []
  const pairs: Array<[unknown, unknown]> = Array.isArray(reply)
    ? (reply as Array<[unknown, unknown]>)
    : reply instanceof Map
      ? [...reply.entries()]
      : Object.entries(reply as object)
  return pairs.map(([stream, entries]) => [String(stream), rawsOf(entries)])
}

/** Orders stream ids `<ms>-<seq>` numerically. */
export function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number) as [number, number]
  const [bMs, bSeq] = b.split('-').map(Number) as [number, number]
  return aMs !== bMs ? aMs - bMs : (aSeq ?? 0) - (bSeq ?? 0)
}

function isStreamId(value: string): boolean {
  return /^\d{1,15}-\d{1,15}$/.test(value)
}

function positive(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Cannot use ${what}: expected a positive integer, got ${String(value)}`)
  }
  return value
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

function isReplyError(error: unknown): boolean {
  // node-redis: ErrorReply (SimpleError, BlobError) for an error the server sent (the connection is fine).
  return error instanceof Error && /^(ErrorReply|SimpleError|BlobError)$/.test(error.constructor.name)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

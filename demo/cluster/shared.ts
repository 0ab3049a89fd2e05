/**
 * What the cluster's API instances share in Redis besides the feed: whose turn it is to publish
 * (a lease) and the ids each client was sent.
 */
import type { RedisClientLike } from 'sluice-server/redis'
import type { Turn } from '../api/publisher.js'
import type { SentIds } from '../api/sent.js'

/** How long the publisher's lease lasts unrenewed: a killed publisher is replaced within this. */
const LEASE_MS = 3000
/** How long a client's sent ids are kept after its last record. */
const SENT_TTL_S = 3600

// KEYS: lease, next seq. ARGV: this instance, lease ms.
// The lease is taken when free and renewed by its holder; the holder gets the seq to publish next.
const TURN_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
elseif holder ~= ARGV[1] then
  return -1
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return tonumber(redis.call('GET', KEYS[2]) or '0')
`

/**
 * A {@link Turn} held by one instance at a time: the holder of a Redis lease (`SET NX PX`,
 * renewed on every tick), so exactly one instance publishes, and when it dies another takes over
 * within {@link LEASE_MS}. The next seq lives in Redis, written after each publish; a publisher
 * killed between its publish and that write leaves the seq unmoved, and its successor's publish
 * of the same seq is the same msgId, so the feed keeps one copy.
 */
export function redisTurn(redis: RedisClientLike, instance: string): Turn {
  return {
    async next() {
      const seq = Number(
        await redis.sendCommand([
          'EVAL',
          TURN_SCRIPT,
          '2',
          'demo:publisher',
          'demo:next-seq',
          instance,
          String(LEASE_MS),
        ]),
      )
      return seq < 0 ? undefined : seq
    },
    async published(seq) {
      await redis.sendCommand(['SET', 'demo:next-seq', String(seq + 1)])
    },
  }
}

/** {@link SentIds} in Redis, one set per client, so an instance killed with `kill -9` takes none with it. */
export function redisSentIds(redis: RedisClientLike): SentIds {
  return {
    add(client, ids) {
      const key = `demo:sent:${client}`
      // Not awaited: the stream goes on; a failed write only shows in the end-to-end check.
      void redis.sendCommand(['SADD', key, ...ids.map(String)]).catch(() => {})
      void redis.sendCommand(['EXPIRE', key, String(SENT_TTL_S)]).catch(() => {})
    },
    async ids(client) {
      const members = (await redis.sendCommand(['SMEMBERS', `demo:sent:${client}`])) as string[]
      return members.map(Number).sort((a, b) => a - b)
    },
  }
}

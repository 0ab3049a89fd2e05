/**
 * The ids each client was sent, for the end-to-end tests' "no gap, no duplicate" check
 * (`GET /api/debug/sent`). In memory for `npm run demo`; the cluster keeps them in Redis
 * (cluster/redis.ts), where an instance killed with `kill -9` cannot take them with it.
 */

/** The distinct record ids (`seq`) handed to each client's streams. */
export interface SentIds {
  /** Notes ids handed to `client`. */
  add(client: string, ids: readonly number[]): void
  /** Every id handed to `client`, ascending. */
  ids(client: string): Promise<number[]>
}

/** Clients remembered: the least recently streamed is forgotten past this, so a long-running demo stays bounded. */
const MAX_CLIENTS = 64

/** {@link SentIds} in this process's memory. */
export function memorySentIds(): SentIds {
  const sent = new Map<string, Set<number>>()
  return {
    add(client, ids) {
      const set = sent.get(client) ?? new Set<number>()
      // Re-inserted, so the Map's order is least recently streamed first.
      sent.delete(client)
      sent.set(client, set)
      if (sent.size > MAX_CLIENTS) sent.delete(sent.keys().next().value!)
      for (const id of ids) set.add(id)
    },
    async ids(client) {
      return [...(sent.get(client) ?? [])].sort((a, b) => a - b)
    },
  }
}

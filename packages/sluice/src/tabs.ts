/**
 * Tabs of one origin sharing one stream: the holder of a Web Lock is the leader, and a
 * BroadcastChannel of the same name carries messages between the tabs. This module only elects and
 * carries; what the messages mean is the store's (store.ts).
 *
 * Web Locks: a lock is released when its holder's page closes or crashes, and the next page waiting
 * in `navigator.locks.request` is granted it (https://w3c.github.io/web-locks/). BroadcastChannel
 * delivers to every other same-origin context listening on the name, never to the sender
 * (https://html.spec.whatwg.org/multipage/web-messaging.html#broadcasting-to-other-browsing-contexts).
 *
 * @module
 */

/** The part of `navigator.locks` used here. */
interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>
}

/** The Web Locks manager, where this context has one. */
function lockManager(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: Partial<LockManagerLike> } }).navigator
  return typeof nav?.locks?.request === 'function' ? (nav.locks as LockManagerLike) : undefined
}

/** Whether this context can share a stream with other tabs: Web Locks and BroadcastChannel both present. */
export function canShareAcrossTabs(): boolean {
  return lockManager() !== undefined && typeof globalThis.BroadcastChannel === 'function'
}

/** What a tab link tells its owner. */
export interface TabLinkEvents<M> {
  /** This tab now holds the lock: it alone may open the stream, until `stop()` or the page goes. */
  onLeader(): void
  /** A message another tab posted. */
  onMessage(message: M): void
}

/** One tab's membership of a group named `name`: waits for leadership and carries messages. */
export class TabLink<M> {
  readonly #name: string
  readonly #events: TabLinkEvents<M>
  #channel: BroadcastChannel | undefined
  #abort: AbortController | undefined
  #release: (() => void) | undefined
  #leader = false

  constructor(name: string, events: TabLinkEvents<M>) {
    this.#name = name
    this.#events = events
  }

  /** Whether this tab holds the lock. */
  get leader(): boolean {
    return this.#leader
  }

  /** Joins: listens on the channel and queues for the lock. */
  start(): void {
    const locks = lockManager()
    if (locks === undefined || this.#channel !== undefined) return
    const channel = (this.#channel = new BroadcastChannel(this.#name))
    channel.onmessage = (event: MessageEvent) => {
      if (this.#channel === channel) this.#events.onMessage(event.data as M)
    }
    const abort = (this.#abort = new AbortController())
    locks
      .request(this.#name, { signal: abort.signal }, () => {
        // Granted: held until stop() resolves this promise (or the page goes, which releases it too).
        if (abort.signal.aborted) return Promise.resolve()
        this.#leader = true
        const held = new Promise<void>((resolve) => (this.#release = resolve))
        this.#events.onLeader()
        return held
      })
      // An abort while waiting rejects the request: that is how a tab leaves the queue.
      .catch(() => {})
  }

  /** Sends `message` to every other tab of the group. */
  post(message: M): void {
    this.#channel?.postMessage(message)
  }

  /** Leaves: stops listening, leaves the queue or releases the lock. */
  stop(): void {
    this.#abort?.abort()
    this.#release?.()
    this.#channel?.close()
    this.#channel = undefined
    this.#abort = undefined
    this.#release = undefined
    this.#leader = false
  }
}

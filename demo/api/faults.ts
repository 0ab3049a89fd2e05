/**
 * Faults the demo API applies to the streams it is serving, so the page can show sluice recover.
 * Each open stream's bytes pass through a {@link FaultStream}; a fault is armed on every open
 * stream and fires on the next record, never on a heartbeat (faults injected in quick succession
 * fire on successive records, in order).
 */

export type FaultKind = 'cut' | 'stall' | 'malformed' | 'invalid' | 'truncate'

export const FAULTS: readonly FaultKind[] = ['cut', 'stall', 'malformed', 'invalid', 'truncate']

/** What each fault injects, per format. */
const INJECTED: Record<'ndjson' | 'sse', Record<'malformed' | 'invalid', string>> = {
  ndjson: { malformed: '{"seq": 12, "rps": oops\n', invalid: '{"seq":-1,"rps":"lots"}\n' },
  sse: { malformed: 'data: {"seq": 12, "rps": oops\n\n', invalid: 'data: {"seq":-1,"rps":"lots"}\n\n' },
}

const open = new Set<FaultStream>()

/** Arms `kind` on every stream now open; returns how many streams will see it. */
export function injectFault(kind: FaultKind): number {
  for (const stream of open) stream.arm(kind)
  return open.size
}

/** Ends every open stream at once with a cut (for a server restart). */
export function cutAll(): void {
  for (const stream of open) stream.kill()
}

/**
 * Bytes from sluice-server to the socket, one record per chunk, with faults applied on demand:
 * `cut` sends half a record and breaks the connection, `stall` goes silent (heartbeats too),
 * `malformed`/`invalid` slip in a bad record, `truncate` ends cleanly without the end marker.
 */
export class FaultStream {
  /** Pipe the response body through it. */
  readonly stream: TransformStream<Uint8Array, Uint8Array>
  readonly #armed: FaultKind[] = []
  #controller: TransformStreamDefaultController<Uint8Array> | undefined
  #release: (() => void) | undefined

  /**
   * `idsOf` reads the record ids in a chunk: a chunk without one (a heartbeat, the end marker)
   * passes through and leaves an armed fault for the next record, so a cut is always mid-record.
   */
  constructor(
    format: 'ndjson' | 'sse',
    onRecord: (ids: readonly number[]) => void,
    idsOf: (chunk: Uint8Array) => number[],
  ) {
    const encoder = new TextEncoder()
    this.stream = new TransformStream({
      start: (controller) => {
        this.#controller = controller
        open.add(this)
      },
      transform: async (chunk, controller) => {
        const ids = idsOf(chunk)
        if (ids.length === 0) return controller.enqueue(chunk)
        const fault = this.#armed.shift()
        switch (fault) {
          case 'cut':
            controller.enqueue(chunk.subarray(0, Math.max(1, chunk.length >> 1)))
            this.#close()
            controller.error(new Error('fault: connection cut mid-record'))
            return
          case 'stall':
            // Silence until the client gives up (its idle timeout) and goes away.
            await new Promise<void>((resolve) => {
              this.#release = resolve
              setTimeout(resolve, 60_000).unref?.()
            })
            return
          case 'truncate':
            this.#close()
            controller.terminate()
            return
          case 'malformed':
          case 'invalid':
            controller.enqueue(encoder.encode(INJECTED[format][fault]))
            break
        }
        // Noted before it is written: an instance killed in between has noted a record its client
        // never got, which the client's resume then fetches from another instance (never the reverse).
        onRecord(ids)
        controller.enqueue(chunk)
      },
      flush: () => this.#close(),
    })
  }

  arm(kind: FaultKind): void {
    this.#armed.push(kind)
  }

  /** Breaks the connection now, without waiting for the next record. */
  kill(reason = 'fault: server restart'): void {
    this.#close()
    try {
      this.#controller?.error(new Error(reason))
    } catch {
      // Already closed.
    }
  }

  #close(): void {
    open.delete(this)
    this.#release?.()
  }
}

/**
 * When a store notifies its listeners: once per animation frame in a page, on a short timer elsewhere,
 * or as the caller chooses. Records are folded as they arrive; only the notification is deferred.
 *
 * @module
 */

/** When listeners are notified: `'frame'` (default), `'microtask'`, or a delay in milliseconds. */
export type Schedule = 'frame' | 'microtask' | number

/** Runs a flush later, at most once however often it is requested before it runs. */
export interface Scheduler {
  /** Asks for one flush; a flush already pending absorbs the request. */
  request(): void
  /** Drops a pending flush. */
  cancel(): void
}

/** The timer outside browsers (about one frame at 60 Hz), and the bound on a frame a hidden page never paints. */
const FRAME_FALLBACK_MS = 16
const HIDDEN_PAGE_MS = 250

/** Animation frames where the runtime has them (typed here: Deno and workers have no DOM lib). */
const frames = globalThis as {
  requestAnimationFrame?: (callback: () => void) => number
  cancelAnimationFrame?: (handle: number) => void
}

/** Checks a `schedule` option: a bad one is a caller's mistake (RangeError), found at `createStore`. */
export function checkSchedule(schedule: unknown): asserts schedule is Schedule {
  if (schedule === 'frame' || schedule === 'microtask') return
  if (typeof schedule === 'number' && Number.isFinite(schedule) && schedule >= 0) return
  throw new RangeError(
    `Cannot create store: schedule must be 'frame', 'microtask' or milliseconds >= 0, got ${String(schedule)}`,
  )
}

/**
 * A scheduler that calls `flush` once per request batch.
 *
 * `'frame'` uses `requestAnimationFrame` where it exists, raced by a timer: a hidden tab gets no frames,
 * and its store must still publish what it folded (another tab may hand it the stream at any moment).
 */
export function createScheduler(schedule: Schedule, flush: () => void): Scheduler {
  let pending = false
  let frame: number | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const run = () => {
    if (!pending) return
    clear()
    flush()
  }
  const clear = () => {
    pending = false
    if (frame !== undefined) frames.cancelAnimationFrame?.(frame)
    if (timer !== undefined) clearTimeout(timer)
    frame = undefined
    timer = undefined
  }
  return {
    request() {
      if (pending) return
      pending = true
      if (schedule === 'microtask') {
        queueMicrotask(run)
      } else if (typeof schedule === 'number') {
        timer = setTimeout(run, schedule)
      } else if (typeof frames.requestAnimationFrame === 'function') {
        frame = frames.requestAnimationFrame(run)
        timer = setTimeout(run, HIDDEN_PAGE_MS)
      } else {
        timer = setTimeout(run, FRAME_FALLBACK_MS)
      }
    },
    cancel: clear,
  }
}

/**
 * Runs `fn` in a task of its own, after the current one (its microtasks included) ends. Through a
 * MessageChannel where there is one: a hidden page's timers run at most once a second, its messages
 * are not held back, and a leader tab in the background must still relay at once.
 */
export function nextTask(fn: () => void): void {
  if (typeof MessageChannel !== 'function') {
    setTimeout(fn, 0)
    return
  }
  const channel = new MessageChannel()
  channel.port1.onmessage = () => {
    channel.port1.close()
    fn()
  }
  channel.port2.postMessage(null)
}

/**
 * The waits of a resilient stream between attempts: the backoff delay, and in browsers the page
 * going offline or hidden. Each ends at once when its signal aborts (`close()`), leaving no timer
 * or listener behind.
 *
 * @module
 */

/** What the stream needs of `document` (typed here: Deno's and workers' types have no `Document`). */
interface PageVisibility {
  readonly visibilityState: string
  addEventListener(type: 'visibilitychange', listener: () => void): void
  removeEventListener(type: 'visibilitychange', listener: () => void): void
}

/** What the stream needs of the global scope (`window` in browsers). */
interface Scope {
  navigator?: { onLine?: boolean }
  document?: PageVisibility
  addEventListener?: (type: string, listener: () => void) => void
  removeEventListener?: (type: string, listener: () => void) => void
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * Whether no attempt should be made now: the browser is offline (retries would burn for nothing),
 * or the page is hidden and `pauseWhenHidden` is set.
 */
export function mustWait(pauseWhenHidden: boolean | undefined): boolean {
  const { navigator, document, addEventListener } = globalThis as Scope
  return (
    (navigator?.onLine === false && typeof addEventListener === 'function') ||
    (pauseWhenHidden === true && document?.visibilityState === 'hidden')
  )
}

/** Resolves at the next `online` or `visibilitychange` event, or as soon as `signal` aborts. */
export function pageChange(signal: AbortSignal): Promise<void> {
  const target = globalThis as Scope
  const doc = target.document
  return new Promise((resolve) => {
    const done = () => {
      target.removeEventListener?.('online', done)
      doc?.removeEventListener('visibilitychange', done)
      resolve()
    }
    target.addEventListener?.('online', done)
    doc?.addEventListener('visibilitychange', done)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** With `pauseWhenHidden`, calls `onHide` when the page is hidden; returns the function that stops watching. */
export function onHidden(pauseWhenHidden: boolean | undefined, onHide: () => void): () => void {
  const doc = (globalThis as Scope).document
  if (pauseWhenHidden !== true || doc === undefined) return () => {}
  const onChange = () => {
    if (doc.visibilityState === 'hidden') onHide()
  }
  doc.addEventListener('visibilitychange', onChange)
  return () => doc.removeEventListener('visibilitychange', onChange)
}

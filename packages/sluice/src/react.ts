/**
 * `sluice/react`: a store's snapshot in a React component (React 18 or 19), through
 * `useSyncExternalStore`. React is an optional peer dependency: only this entry imports it.
 *
 * @module
 */
import { useSyncExternalStore } from 'react'
import type { Store, StoreSnapshot } from './store.js'

export type { Store, StoreRole, StoreSnapshot } from './store.js'

/**
 * Subscribes the component to `store` and returns its snapshot. The component re-renders when the store
 * notifies (at most once per animation frame by default), and every component of one store shares its stream.
 *
 * @example
 * ```ts
 * import { createElement } from 'react'
 * import { useStream } from 'sluice/react'
 * import type { Store } from 'sluice/store'
 *
 * declare const metrics: Store<{ seq: number }[]>
 * function LastSeq() {
 *   const snap = useStream(metrics)
 *   return createElement('output', null, snap.value.at(-1)?.seq ?? '–')
 * }
 * ```
 */
export function useStream<S>(store: Store<S>): StoreSnapshot<S> {
  // The store's own functions: stable identities, so React never resubscribes on a re-render.
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}

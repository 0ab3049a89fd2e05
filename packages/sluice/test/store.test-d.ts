/**
 * Types of sluice/store and sluice/react: the state from `initial`, records from the factory's stream,
 * the snapshot's fields, and the Vue and Svelte recipes of the README (same code) against each
 * framework's own types.
 */

import { get, type Readable, readable } from 'svelte/store'
import { describe, expectTypeOf, test } from 'vitest'
import { onScopeDispose, type ShallowRef, shallowRef } from 'vue'
import { z } from 'zod'
import { ndjson, type StreamCounters, type StreamState, sse } from '../src/index.js'
import { useStream } from '../src/react.js'
import { createStore, keepLast, type Store, type StoreRole, type StoreSnapshot } from '../src/store.js'

const Metric = z.object({ seq: z.number(), rps: z.number() })
type Metric = z.infer<typeof Metric>

// The README recipes, word for word.
function useStreamRef<S>(store: Store<S>): Readonly<ShallowRef<StoreSnapshot<S>>> {
  const snap = shallowRef(store.getSnapshot())
  const unsubscribe = store.subscribe(() => (snap.value = store.getSnapshot()))
  snap.value = store.getSnapshot() // anything folded between the first read and subscribe
  onScopeDispose(unsubscribe)
  return snap
}
function readableOf<S>(store: Store<S>): Readable<StoreSnapshot<S>> {
  return readable(store.getSnapshot(), (set) => {
    const unsubscribe = store.subscribe(() => set(store.getSnapshot()))
    set(store.getSnapshot())
    return unsubscribe
  })
}

const metrics = createStore(
  ({ lastEventId }) => ndjson('/api/metrics', { schema: Metric, idOf: (m) => m.seq, lastEventId }),
  {
    initial: [] as Metric[],
    reduce: (state, record) => keepLast(state, record, 600),
    key: 'metrics',
    shareAcrossTabs: true,
    lingerMs: 1_000,
  },
)

describe('createStore', () => {
  test('infers the state from initial and the record from the stream', () => {
    expectTypeOf(metrics).toEqualTypeOf<Store<Metric[]>>()
    createStore(() => ndjson('/x', { schema: Metric }), {
      initial: 0,
      reduce: (sum, record) => {
        expectTypeOf(record).toEqualTypeOf<Metric>()
        return sum + record.rps
      },
    })
    createStore(() => sse('/x', { schema: Metric }), {
      initial: [] as number[],
      reduce: (state, event) => {
        expectTypeOf(event.data).toEqualTypeOf<Metric>()
        return [...state, event.data.seq]
      },
    })
  })

  test('types the snapshot', () => {
    const snap = metrics.getSnapshot()
    expectTypeOf(snap.value).toEqualTypeOf<Metric[]>()
    expectTypeOf(snap.state).toEqualTypeOf<StreamState>()
    expectTypeOf(snap.counters).toEqualTypeOf<Readonly<StreamCounters>>()
    expectTypeOf(snap.lastEventId).toEqualTypeOf<string | undefined>()
    expectTypeOf(snap.live).toEqualTypeOf<boolean>()
    expectTypeOf(snap.role).toEqualTypeOf<StoreRole>()
    expectTypeOf<StoreRole>().toEqualTypeOf<'leader' | 'follower' | 'solo'>()
    expectTypeOf(snap.error).toEqualTypeOf<unknown>()
  })

  test('refuses a reducer that does not return the state, and a bad schedule', () => {
    // @ts-expect-error reduce must return the state's type
    createStore(() => ndjson('/x', { schema: Metric }), { initial: 0, reduce: (_sum, record) => record.seq.toString() })
    // @ts-expect-error schedule is 'frame', 'microtask' or milliseconds
    createStore(() => ndjson('/x'), { initial: 0, reduce: (n) => n, schedule: 'later' })
  })

  test('useStream returns the store snapshot', () => {
    expectTypeOf(useStream(metrics)).toEqualTypeOf<StoreSnapshot<Metric[]>>()
  })

  test('the Vue recipe gives a shallowRef of the snapshot, the Svelte recipe a readable', () => {
    expectTypeOf(useStreamRef(metrics).value.value).toEqualTypeOf<Metric[]>()
    expectTypeOf(get(readableOf(metrics)).role).toEqualTypeOf<StoreRole>()
  })
})

/**
 * The `persist` option: the resume position kept in `sessionStorage` (or any Storage-like object),
 * so a stream started again after a page reload continues where the last one stopped.
 *
 * @module
 */

/** Where a stream keeps its resume position across page loads. */
export interface PersistOptions {
  /** The storage key: a stream started with the same key starts from the id stored under it. */
  key: string
  /** Default: `sessionStorage` where it exists (per tab, gone with the tab), else nothing is persisted. */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined
  /**
   * Called once, with the storage's error, when it throws (quota exceeded, storage disabled, private
   * mode): the stream goes on without persisting. Default: one `console.warn`.
   */
  onError?: ((error: unknown) => void) | undefined
}

/** Reads and writes one stream's stored id; never throws. */
export interface Cursor {
  load(): string | undefined
  /** Stores `id`, or removes the entry for `undefined` (no resume position: the end, or an empty id). */
  save(id: string | undefined): void
}

type Store = NonNullable<PersistOptions['storage']>

const NOWHERE: Store = { getItem: () => null, setItem() {}, removeItem() {} }

/** The cursor for `options`; once the storage threw, it goes on without it. */
export function cursorOf({ key, storage, onError }: PersistOptions): Cursor {
  if (typeof key !== 'string') throw new TypeError('Cannot use persist: expected { key: string }')
  let store = storage
  let saved: string | null | undefined
  const use = <R>(action: (store: Store) => R): R | undefined => {
    try {
      // Reading sessionStorage itself throws where storage is blocked (sandboxed frames, some privacy modes).
      store ??= (globalThis as { sessionStorage?: Store }).sessionStorage ?? NOWHERE
      return action(store)
    } catch (error) {
      store = NOWHERE
      ;(
        onError ??
        ((e) => console.warn(`sluice: Cannot persist the stream position under "${key}": going on without it`, e))
      )(error)
      return undefined
    }
  }
  return {
    load: () => (saved = use((s) => s.getItem(key))) ?? undefined,
    save: (id) => {
      if (id === (saved ?? undefined)) return
      saved = id
      use((s) => (id === undefined ? s.removeItem(key) : s.setItem(key, id)))
    },
  }
}

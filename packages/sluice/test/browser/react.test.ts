/**
 * useStream (sluice/react) in real Chromium (vitest browser mode): several components of one store,
 * fed 1,000 records a second by a loopback server, render at most once per animation frame, fold every
 * record, and never trip React's "Maximum update depth exceeded".
 */
import { createElement as h, StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { expect, inject, test } from 'vitest'
import { ndjson } from '../../src/index.js'
import { useStream } from '../../src/react.js'
import { createStore, type Store } from '../../src/store.js'

const COUNT = 1500 // 1.5 s at 1,000 records/s

test('several useStream consumers render once per frame at 1,000 records/s, with every record folded', async () => {
  const url = `${inject('liveServerUrl')}/stream?rate=1000&count=${COUNT}`
  const store = createStore(() => ndjson<{ seq: number }>(url, { idOf: (r) => r.seq }), {
    initial: { count: 0, last: -1, ordered: true },
    reduce: (state, record) => ({
      count: state.count + 1,
      last: record.seq,
      ordered: state.ordered && record.seq === state.last + 1,
    }),
  })
  const renders = { total: 0, byConsumer: [0, 0, 0] }
  const errors: string[] = []
  const originalError = console.error
  console.error = (...args: unknown[]) => {
    errors.push(args.map(String).join(' '))
    originalError(...args)
  }

  function Consumer({
    index,
    store,
  }: {
    index: number
    store: Store<{ count: number; last: number; ordered: boolean }>
  }) {
    const snap = useStream(store)
    renders.total++
    renders.byConsumer[index]!++
    return h('p', { 'data-consumer': index }, `${snap.state} ${snap.value.count}`)
  }
  const container = document.createElement('div')
  document.body.append(container)
  const root = createRoot(container)

  // Frames counted over the same time as the renders.
  let frames = 0
  let counting = true
  const tick = () => {
    frames++
    if (counting) requestAnimationFrame(tick)
  }
  requestAnimationFrame(tick)

  try {
    root.render(
      h(
        StrictMode,
        null,
        h(
          'main',
          null,
          [0, 1, 2].map((index) => h(Consumer, { key: index, index, store })),
        ),
      ),
    )
    await expect.poll(() => store.getSnapshot().state, { timeout: 20_000 }).toBe('closed')
    // The last notification carried the end: wait for React to have rendered it.
    await expect
      .poll(() => container.querySelector('[data-consumer="2"]')?.textContent, { timeout: 5_000 })
      .toBe(`closed ${COUNT}`)
    counting = false
    const snap = store.getSnapshot()
    expect(snap.value).toEqual({ count: COUNT, last: COUNT - 1, ordered: true })
    expect(snap.error).toBeUndefined()
    // StrictMode renders each component twice per render in development; a render per frame at most, plus the first.
    const perConsumer = renders.byConsumer.map((n) => n / 2)
    console.log(`react: ${COUNT} records, ${frames} frames, renders per consumer ${perConsumer.join(', ')}`)
    for (const n of perConsumer) expect(n).toBeLessThanOrEqual(frames + 1)
    // And far fewer renders than records: coalescing happened.
    for (const n of perConsumer) expect(n).toBeLessThan(COUNT / 5)
    expect(errors.filter((e) => /Maximum update depth/i.test(e))).toEqual([])
    expect(errors).toEqual([])
  } finally {
    counting = false
    console.error = originalError
    root.unmount()
    container.remove()
  }
})

/**
 * The waits between attempts (wait.ts): the backoff sleep, and in browsers the page offline or
 * hidden. Each on its own with a stubbed `navigator`, `document` and window events, then `ndjson()`
 * offline from the start. How hiding the page interacts with the retry rules: fetch.test.ts.
 */
import { afterEach, describe, expect, test, vi } from 'vitest'
import type { RecordStream, StreamState } from '../src/index.js'
import { mustWait, onHidden, pageChange, sleep } from '../src/wait.js'
import { chaos, openChaos } from './support/chaos-server.js'
import { seqs } from './support/streams.js'

afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

/** An event target that counts the listeners left on it. */
function target<T extends object>(fields: T) {
  const events = new EventTarget()
  const listeners = new Set<unknown>()
  return Object.assign(fields, {
    listeners,
    addEventListener(type: string, listener: () => void) {
      listeners.add(listener)
      events.addEventListener(type, listener)
    },
    removeEventListener(type: string, listener: () => void) {
      listeners.delete(listener)
      events.removeEventListener(type, listener)
    },
    dispatch(type: string) {
      events.dispatchEvent(new Event(type))
    },
  })
}

/** `navigator.onLine` and the window's `online` event, as a browser has them. */
function network(onLine: boolean) {
  const navigator = { onLine }
  const window = target({})
  vi.stubGlobal('navigator', navigator)
  vi.stubGlobal('addEventListener', window.addEventListener)
  vi.stubGlobal('removeEventListener', window.removeEventListener)
  return {
    listeners: window.listeners,
    online() {
      navigator.onLine = true
      window.dispatch('online')
    },
  }
}

/** A `document` whose visibility the test sets. */
function page(visibilityState: 'visible' | 'hidden' = 'visible') {
  const doc = target({ visibilityState })
  vi.stubGlobal('document', doc)
  return {
    listeners: doc.listeners,
    set(state: 'visible' | 'hidden') {
      doc.visibilityState = state
      doc.dispatch('visibilitychange')
    },
  }
}

/** Whether `promise` has settled, after the pending microtasks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  void promise.then(() => (done = true))
  await new Promise((resolve) => setImmediate(resolve))
  return done
}

describe('sleep', () => {
  test('resolves after ms, leaving no timer', async () => {
    vi.useFakeTimers()
    const done = sleep(100, new AbortController().signal)
    await vi.advanceTimersByTimeAsync(99)
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    await done
    expect(vi.getTimerCount()).toBe(0)
  })

  test('resolves at once when its signal aborts, clearing the timer', async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const done = sleep(60_000, controller.signal)
    controller.abort()
    await done
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('mustWait', () => {
  test('in a runtime without navigator.onLine or document (Node), never', () => {
    expect([mustWait(undefined), mustWait(true)]).toEqual([false, false])
  })

  test('offline, where the online event can be heard: wait; online: go', () => {
    const net = network(false)
    expect(mustWait(undefined)).toBe(true)
    net.online()
    expect(mustWait(undefined)).toBe(false)
  })

  test('offline where no online event can be heard: go (the wait would never end)', () => {
    vi.stubGlobal('navigator', { onLine: false })
    expect(mustWait(undefined)).toBe(false)
  })

  test('a hidden page: wait with pauseWhenHidden only', () => {
    const doc = page('hidden')
    expect([mustWait(true), mustWait(false), mustWait(undefined)]).toEqual([true, false, false])
    doc.set('visible')
    expect(mustWait(true)).toBe(false)
  })
})

describe('pageChange', () => {
  test('resolves at the online event, leaving no listener', async () => {
    const net = network(false)
    const doc = page()
    const change = pageChange(new AbortController().signal)
    expect(await settled(change)).toBe(false)
    net.online()
    await change
    expect([net.listeners.size, doc.listeners.size]).toEqual([0, 0])
  })

  test('resolves at a visibilitychange, leaving no listener', async () => {
    const net = network(true)
    const doc = page('hidden')
    const change = pageChange(new AbortController().signal)
    expect(await settled(change)).toBe(false)
    doc.set('visible')
    await change
    expect([net.listeners.size, doc.listeners.size]).toEqual([0, 0])
  })

  test('resolves when its signal aborts, leaving no listener; without window events or a document, only then', async () => {
    const controller = new AbortController()
    const alone = pageChange(controller.signal) // Node: nothing else can end it
    const net = network(false)
    const doc = page()
    const change = pageChange(controller.signal)
    expect(await settled(alone)).toBe(false)
    controller.abort()
    await Promise.all([alone, change])
    expect([net.listeners.size, doc.listeners.size]).toEqual([0, 0])
  })
})

describe('onHidden', () => {
  test('with pauseWhenHidden, calls onHide each time the page turns hidden, until stopped', () => {
    const doc = page()
    const onHide = vi.fn()
    const stop = onHidden(true, onHide)
    doc.set('hidden')
    doc.set('visible')
    expect(onHide).toHaveBeenCalledTimes(1)
    stop()
    doc.set('hidden')
    expect(onHide).toHaveBeenCalledTimes(1)
    expect(doc.listeners.size).toBe(0)
  })

  test('without pauseWhenHidden, or without a document, watches nothing', () => {
    const onHide = vi.fn()
    onHidden(true, onHide)() // Node: no document
    const doc = page()
    const stop = onHidden(false, onHide)
    expect(doc.listeners.size).toBe(0)
    doc.set('hidden')
    stop()
    expect(onHide).not.toHaveBeenCalled()
  })
})

describe('offline (browsers): no attempt until the online event', () => {
  test('offline at the start: no request, retrying; online: it connects and delivers; no listener left', async () => {
    const net = network(false)
    const server = await chaos('ndjson', 3)
    const states: StreamState[] = []
    const stream = openChaos('ndjson', server.url, { onStateChange: (s: StreamState) => states.push(s) })
    const pending = seqs(stream)
    for (let i = 0; i < 100 && stream.state !== 'retrying'; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(stream.state).toBe('retrying')
    expect(server.requests).toHaveLength(0)
    net.online()
    expect(await pending).toEqual([0, 1, 2])
    expect(states).toEqual(['retrying', 'connecting', 'open', 'closed'])
    expect(server.requests).toHaveLength(1)
    expect(net.listeners.size).toBe(0)
  })

  test('close() while offline ends the stream at once, and from onStateChange too', async () => {
    const net = network(false)
    const server = await chaos('ndjson', 1)
    const stream: RecordStream<unknown> = openChaos('ndjson', server.url, {
      onStateChange: (state: StreamState) => state === 'retrying' && stream.close(),
    })
    let bound: ReturnType<typeof setTimeout> | undefined
    const outcome = await Promise.race([
      stream[Symbol.asyncIterator]().next(),
      new Promise((resolve) => (bound = setTimeout(resolve, 2000, 'still waiting'))),
    ])
    clearTimeout(bound)
    expect(outcome).toEqual({ value: undefined, done: true })
    expect(server.requests).toHaveLength(0)
    expect(net.listeners.size).toBe(0)
  })
})

/**
 * Drives a push parser from a chunk reader as a pull-based async iterator: a chunk is read only
 * when the consumer has taken every record of the previous one, so a paused consumer stops the
 * source being drained and backpressure reaches the network.
 *
 * @module
 */

import { keepLayout } from './layouts.js'
import { type Chunk, type ChunkReader, checkChunk, emptyReader } from './source.js'
import { Pending, SKIPPED } from './validate.js'

/** What the driver needs of a decoder. */
export interface PushParser {
  push(chunk: Chunk, out: unknown[]): void
  end(out: unknown[]): void
  readonly done: boolean
}

/**
 * An async iterator over a parser's output. Leaving `for await` early (or aborting `signal`)
 * cancels the source. No promise per line: one read per chunk, then records from a queue.
 */
export class RecordIterator<T> implements AsyncIterableIterator<T> {
  #queue: unknown[] = []
  #index = 0
  #finished = false
  #sourceDone = false
  #abortReported = false
  #closedByAbort = false
  readonly #reader: ChunkReader
  readonly #parser: PushParser
  readonly #signal: AbortSignal | undefined
  readonly #onAbort: (() => void) | undefined
  // Settles when the signal aborts, so a read stuck in a source that ignores cancellation (an async
  // generator awaiting something) cannot hold the abort back.
  readonly #aborted: Promise<never> | undefined

  constructor(reader: ChunkReader, parser: PushParser, signal?: AbortSignal) {
    this.#reader = reader
    this.#parser = parser
    this.#signal = signal
    if (signal) {
      let reject: (reason: unknown) => void = () => {}
      this.#aborted = new Promise<never>((_, r) => (reject = r))
      this.#aborted.catch(() => {}) // Observed by the read it races; never an unhandled rejection.
      this.#onAbort = () => {
        reject(signal.reason)
        if (!this.#finished) this.#closedByAbort = true
        void this.#close(signal.reason)
      }
      signal.addEventListener('abort', this.#onAbort, { once: true })
    }
    keepLayout(RecordIterator, () => new RecordIterator(emptyReader(), { push() {}, end() {}, done: true }))
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<T>> {
    // Hot path: a record is already queued.
    if (this.#index < this.#queue.length && !this.#finished) {
      const item = this.#queue[this.#index]
      if (!(item instanceof Pending)) {
        this.#index++
        return Promise.resolve({ value: item as T, done: false })
      }
    }
    return this.#pull()
  }

  async return(): Promise<IteratorResult<T>> {
    await this.#close()
    return { value: undefined, done: true }
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    await this.#close(error)
    throw error
  }

  async #pull(): Promise<IteratorResult<T>> {
    for (;;) {
      // The abort reason rejects one read (not one after a normal end); then the iterator is done.
      if (this.#signal?.aborted && !this.#abortReported && (!this.#finished || this.#closedByAbort)) {
        this.#abortReported = true
        await this.#close(this.#signal.reason)
        throw this.#signal.reason
      }
      while (this.#index < this.#queue.length && !this.#finished) {
        const item = this.#queue[this.#index++]
        if (!(item instanceof Pending)) return { value: item as T, done: false }
        let value: unknown
        try {
          value = await item.settle()
        } catch (error) {
          await this.#close(error)
          throw error
        }
        if (value !== SKIPPED) return { value: value as T, done: false }
      }
      if (this.#finished) return { value: undefined, done: true }
      // A fresh array, not `length = 0`: truncating is a runtime call that frees the backing store anyway.
      if (this.#queue.length !== 0) this.#queue = []
      this.#index = 0
      if (this.#parser.done || this.#sourceDone) {
        // The end marker came (or the source ended and was flushed): nothing more to read.
        await this.#close()
        continue
      }
      let chunk: Chunk | undefined
      try {
        // One promise per chunk, only with a signal: the hot path stays per chunk, not per record.
        const read = this.#reader.read()
        chunk = checkChunk(await (this.#aborted === undefined ? read : Promise.race([read, this.#aborted])))
      } catch (error) {
        if (this.#signal?.aborted) continue
        await this.#close(error)
        throw error
      }
      if (this.#finished) continue
      if (chunk === undefined) {
        this.#sourceDone = true
        this.#parser.end(this.#queue)
      } else {
        this.#parser.push(chunk, this.#queue)
      }
    }
  }

  async #close(reason?: unknown): Promise<void> {
    if (this.#finished) return
    this.#finished = true
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort)
    if (!this.#sourceDone) {
      this.#sourceDone = true
      await this.#reader.cancel(reason)
    }
  }
}

/**
 * Schema validation and the `onInvalid` policy: the one place a bad record is thrown, skipped or
 * reported, so both decoders treat it alike.
 *
 * @module
 */
import { type RecordPosition, type SluiceError, ValidationError } from './errors.js'
import type { StandardSchemaV1 } from './standard-schema.js'

/** What to do with a record that fails to parse or to validate. */
export type OnInvalid = 'throw' | 'skip' | ((error: SluiceError) => void)

/**
 * A slot in a decoder's output that is not a plain record: an error to raise once the records
 * before it are delivered, or a record still being validated by an async schema.
 */
export class Pending {
  declare readonly error: unknown
  declare readonly promise: Promise<unknown> | undefined

  constructor(error: unknown, promise?: Promise<unknown>) {
    this.error = error
    this.promise = promise
  }

  /**
   * What the slot comes to, the one rule every consumer of a decoder's output follows (the record
   * iterator and the transform streams): the validated record, {@link SKIPPED}, or a rejection
   * with the error to raise.
   */
  settle(): Promise<unknown> {
    return this.promise ?? Promise.reject(this.error)
  }
}

/** Marks a record an async validation decided to skip. */
export const SKIPPED: unique symbol = Symbol('sluice.skipped')

/** Applies `schema` and `onInvalid` to decoded values, appending the outcome to an output queue. */
export class RecordGate {
  /** Records rejected and skipped under `onInvalid: 'skip'` or a callback. */
  skipped = 0
  /** Whether there is a schema to check records against (without one, {@link check} is the identity). */
  declare readonly validates: boolean
  readonly #validate: StandardSchemaV1['~standard']['validate'] | undefined
  readonly #onInvalid: OnInvalid

  constructor(schema: StandardSchemaV1 | undefined, onInvalid: OnInvalid = 'throw') {
    if (schema !== undefined && typeof schema?.['~standard']?.validate !== 'function') {
      throw new TypeError('Cannot use schema: it does not implement Standard Schema v1 (no ~standard.validate)')
    }
    if (onInvalid !== 'throw' && onInvalid !== 'skip' && typeof onInvalid !== 'function') {
      throw new TypeError(`Cannot use onInvalid: expected "throw", "skip" or a function, got ${String(onInvalid)}`)
    }
    this.#validate = schema?.['~standard'].validate
    this.validates = this.#validate !== undefined
    this.#onInvalid = onInvalid
  }

  /**
   * Validates one decoded value: returns the record, or a {@link Pending} (an error to raise, or an
   * async validation), or {@link SKIPPED}. `position` is only called when the record is bad.
   * `validate`: another schema's (a typed event's), under the same `onInvalid` policy and count.
   */
  check(value: unknown, position: () => RecordPosition, validate = this.#validate): unknown {
    if (validate === undefined) return value
    const result = validate(value)
    if (result instanceof Promise) {
      // Positions are computed lazily on the sync path; an async result settles after the decoder moved on.
      const at = position()
      return new Pending(
        undefined,
        result.then((settled) => {
          const outcome = this.#judge(settled, () => at)
          if (outcome instanceof Pending) throw outcome.error
          return outcome
        }),
      )
    }
    return this.#judge(result, position)
  }

  /** Applies the `onInvalid` policy to a bad record: a {@link Pending} error to raise, or {@link SKIPPED}. */
  reject(error: SluiceError): Pending | typeof SKIPPED {
    const policy = this.#onInvalid
    if (policy === 'throw') return new Pending(error)
    this.skipped++
    if (policy !== 'skip') {
      try {
        policy(error)
      } catch (thrown) {
        return new Pending(thrown)
      }
    }
    return SKIPPED
  }

  /** A validation's outcome: the record, or what {@link reject} makes of its issues. */
  #judge(result: StandardSchemaV1.Result<unknown>, position: () => RecordPosition): unknown {
    if (result.issues === undefined) return result.value
    return this.reject(new ValidationError(position(), result.issues))
  }
}

/** A decoder's output for one chunk: records and {@link Pending} slots. A queued error stops decoding. */
export class Outbox {
  items: unknown[] = []
  failed = false

  /** Queues a record or what stands for it; {@link SKIPPED} is dropped. */
  emit(item: unknown): void {
    if (item === SKIPPED) return
    this.items.push(item)
    if (item instanceof Pending && item.promise === undefined) this.failed = true
  }

  /** Queues an error, raised once the records before it are delivered. */
  fail(error: unknown): void {
    this.items.push(new Pending(error))
    this.failed = true
  }
}

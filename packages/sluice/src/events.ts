/**
 * Typed events: one Standard Schema per SSE event name, so records are a discriminated union on
 * `event` and `switch (e.event)` narrows `e.data`. The parser looks each dispatched event's schema
 * up here; code that never passes `events` never calls into this module.
 *
 * @module
 */
import { type RecordPosition, ValidationError } from './errors.js'
import type { StandardSchemaV1 } from './standard-schema.js'

/** A schema per event name: `{ delta: Delta, done: Done }`. */
export type EventSchemas = { readonly [event: string]: StandardSchemaV1 }

/** What to do with an event whose name has no schema in `events`: drop it (default) or fail with a `ValidationError`. */
export type OnUnknownEvent = 'skip' | 'throw'

/** The record of one typed event: `data` is its schema's output. */
export interface TypedEvent<K extends string, T> {
  event: K
  data: T
  /** The event's last-event-id, as on {@link SseEvent}. */
  id?: string
  /** The reconnection time from a `retry` field in this event's block, in milliseconds. */
  retry?: number
}

/** The union of the typed events of `E`, discriminated by `event`. */
export type TypedSseEvent<E extends EventSchemas> = {
  [K in keyof E & string]: TypedEvent<K, StandardSchemaV1.InferOutput<E[K]>>
}[keyof E & string]

/** The options that turn typed events on. */
export interface TypedEventOptions<E extends EventSchemas = EventSchemas> {
  /** A Standard Schema per event name; `json` is implied. Records are a union discriminated by `event`. */
  events?: E
  /** An event with no schema in `events`: `'skip'` (default) or `'throw'` (a `ValidationError`). */
  onUnknownEvent?: OnUnknownEvent
}

type Validate = StandardSchemaV1['~standard']['validate']

/** The validators by event name, checked once; `undefined` without `events`. */
export function eventValidators(options: TypedEventOptions & { schema?: unknown }): Map<string, Validate> | undefined {
  const { events, onUnknownEvent } = options
  if (onUnknownEvent !== undefined && onUnknownEvent !== 'skip' && onUnknownEvent !== 'throw') {
    throw new TypeError(`Cannot use onUnknownEvent: expected "skip" or "throw", got ${String(onUnknownEvent)}`)
  }
  if (events === undefined) return undefined
  if (options.schema !== undefined)
    throw new TypeError('Cannot use events with schema: give each event its schema in events')
  const validators = new Map<string, Validate>()
  for (const [name, schema] of Object.entries(events)) {
    const validate = schema?.['~standard']?.validate
    if (typeof validate !== 'function') {
      throw new TypeError(`Cannot use events.${name}: it does not implement Standard Schema v1 (no ~standard.validate)`)
    }
    validators.set(name, validate)
  }
  return validators
}

/** The error for an event with no schema under `onUnknownEvent: 'throw'`. */
export function unknownEventError(
  event: string,
  position: RecordPosition,
  known: Map<string, Validate>,
): ValidationError {
  return new ValidationError(position, [
    { message: `no schema for event "${event}" (events has ${[...known.keys()].join(', ')})` },
  ])
}

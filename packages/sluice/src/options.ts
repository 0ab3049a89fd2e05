/**
 * Options every decoder takes.
 *
 * @module
 */
import type { EndOptions } from './end-marker.js'
import type { GapOptions } from './gap.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import type { TextOptions } from './text.js'
import type { OnInvalid } from './validate.js'

/** 16 MiB: longer than any sane record, short enough that one bad line cannot exhaust memory. */
const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024

/** What both decoders accept. */
export interface DecodeOptions<S extends StandardSchemaV1 | undefined = StandardSchemaV1 | undefined>
  extends EndOptions,
    GapOptions,
    TextOptions {
  /** Validates every record; record types are inferred from it. Any Standard Schema v1 (zod 4, Valibot, ArkType...). */
  schema?: S
  /** A record that fails to parse or validate: `"throw"` (default), `"skip"`, or a callback that sees the error and skips. */
  onInvalid?: OnInvalid
  /** The longest line accepted, in bytes; a longer one raises `LineTooLongError`. Default 16 MiB. */
  maxLineBytes?: number
  /** Aborting it cancels the source and rejects the pending read with the signal's reason. */
  signal?: AbortSignal | undefined
}

/** Checks `maxLineBytes` and returns the limit in force. */
export function maxLineBytesOf(options: { maxLineBytes?: number }): number {
  const limit = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  if (!(limit > 0) || !Number.isFinite(limit)) {
    throw new RangeError(`Cannot use maxLineBytes: expected a positive number, got ${String(limit)}`)
  }
  return limit
}

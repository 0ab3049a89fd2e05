import type { TruncationReason } from '../../src/errors.js'

/** The fields of the error a vector ends with (matched with `toMatchObject`). */
export interface ExpectedError {
  code: string
  reason?: TruncationReason
  line?: number
  offset?: number
  snippet?: string
  expected?: number
  received?: number
}

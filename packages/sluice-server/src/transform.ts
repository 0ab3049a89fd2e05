/**
 * The transformer behind the encoder streams: items in, encoded bytes out, end marker on flush.
 *
 * @module
 */
import { type CaughtUp, caughtUp } from './caught-up.js'
import type { WireFormat } from './format.js'

/** A `Transformer` encoding items with `format`, counting them for the end marker. */
export function encoderTransformer<T>(format: WireFormat<T>, withEnd: boolean): Transformer<T | CaughtUp, Uint8Array> {
  const bytes = new TextEncoder()
  let count = 0
  let live = false
  return {
    start(controller) {
      if (format.preamble !== '') controller.enqueue(bytes.encode(format.preamble))
    },
    transform(item, controller) {
      if (item === caughtUp) {
        if (!live) controller.enqueue(bytes.encode(format.live))
        live = true
        return
      }
      controller.enqueue(bytes.encode(format.encode(item).text))
      count++
    },
    flush(controller) {
      if (withEnd) controller.enqueue(bytes.encode(format.end(count)))
    },
  }
}

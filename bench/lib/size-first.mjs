/**
 * A decoder written for size first: `decodeNdjson`'s features and messages as one async generator
 * (any source by shape, UTF-8 with BOM and `fatal`, `maxLineBytes`, line and byte offset computed
 * only for an error, `onInvalid`, sync and async schemas, the end marker with its count,
 * `requireEnd`, a partial last record, feed gap / entry / caught-up markers, `signal`), and none of
 * sluice's speed machinery (no byte gatherer, no record queue: a generator step per record).
 * 2,456 B gzipped alone (esbuild minified, gzip -9), under issue 11's 2.5 KB target for
 * `decodeNdjson`: it is here to show in one run what that size costs in speed (BENCHMARKS.md).
 * Not a product: it skips rules sluice keeps (bytes held for a character that a string chunk then
 * follows; the gap marker's shape check; the abort reason rejected once).
 *
 * @module
 */
const snippetOf = (text) => (text.length > 200 ? `${text.slice(0, 199)}…` : text)
class SluiceError extends Error {
  constructor(message, fields, cause) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = new.target.name
    Object.assign(this, fields)
  }
}
class ParseError extends SluiceError {
  constructor(position, cause) {
    super(
      `Cannot parse JSON on line ${position.line} (byte ${position.offset})${cause instanceof Error ? `: ${cause.message}` : ''}`,
      { code: 'PARSE_ERROR', ...position },
      cause,
    )
  }
}
class ValidationError extends SluiceError {
  constructor(position, issues) {
    const first = issues[0]
    const where = first?.path?.length
      ? ` at ${first.path.map((s) => String(typeof s === 'object' ? s.key : s)).join('.')}`
      : ''
    super(
      `Cannot accept record on line ${position.line}: schema rejected it${first ? `: ${first.message}${where}` : ''}`,
      { code: 'VALIDATION_ERROR', ...position, issues },
    )
  }
}
class TruncatedStreamError extends SluiceError {
  constructor(reason, { line, received, expected, snippet = '', offset }) {
    super(
      `Cannot complete stream: ${reason === 'partial-record' ? `it ended inside a record on line ${line}` : reason === 'missing-end' ? `it ended after ${received} records without the end marker` : `end marker on line ${line} counts ${expected} records but ${received} arrived`}`,
      { code: 'TRUNCATED_STREAM', reason, line, offset, expected, received, snippet },
    )
  }
}
class LineTooLongError extends SluiceError {
  constructor(limit, line, snippet, offset) {
    super(`Cannot buffer line ${line}: longer than maxLineBytes (${limit})`, {
      code: 'LINE_TOO_LONG',
      limit,
      line,
      offset,
      snippet,
    })
  }
}
class EncodingError extends SluiceError {
  constructor(offset, cause) {
    super(
      `Cannot decode UTF-8: invalid bytes in the chunk at byte ${offset}`,
      { code: 'ENCODING_ERROR', offset },
      cause,
    )
  }
}
class GapError extends SluiceError {
  constructor({ reason, lastEventId, resumeFrom }, line) {
    super(
      `Cannot continue stream: the records after ${snippetOf(lastEventId)} are gone (${reason}); it resumes from ${snippetOf(resumeFrom ?? 'its next record')}`,
      { code: 'STREAM_GAP', reason, lastEventId, resumeFrom, line },
    )
  }
}
const kindOf = (v) => (v === null ? 'null' : typeof v !== 'object' ? typeof v : (v.constructor?.name ?? 'object'))
const isStream = (v) => typeof v?.getReader === 'function'
async function* chunksOf(source) {
  if (!isStream(source) && source && typeof source === 'object' && 'body' in source) {
    if (source.bodyUsed) throw new TypeError('Cannot read response: its body was already used')
    source = source.body
    if (source === null) return
  }
  if (isStream(source)) {
    if (source.locked) throw new TypeError('Cannot read stream: it is locked to another reader')
    const reader = source.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        yield value
      }
    } finally {
      try {
        await reader.cancel?.()
      } catch {}
    }
  }
  if (source?.[Symbol.asyncIterator] || source?.[Symbol.iterator]) return yield* source
  throw new TypeError(
    `Cannot read source: expected a ReadableStream, a Response or an AsyncIterable of bytes, got ${kindOf(source)}`,
  )
}
function chunkOf(value) {
  if (value instanceof Uint8Array || typeof value === 'string') return value
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  if (Object.prototype.toString.call(value) === '[object ArrayBuffer]') return new Uint8Array(value)
  throw new TypeError(`Cannot decode chunk: expected Uint8Array or string, got ${kindOf(value)}`)
}
const encoder = new TextEncoder()
const byteLength = (text) => encoder.encode(text).length
const isObject = (v) => typeof v === 'object' && v !== null
const defaultEnd = (v) =>
  isObject(v) && v.$sluice === 'end' && { count: Number.isSafeInteger(v.count) && v.count >= 0 ? v.count : undefined }
export async function* decodeNdjson(source, options = {}) {
  const { schema, onInvalid = 'throw', onGap = 'throw', fatal, requireEnd, maxLineBytes = 1048576, signal } = options
  const validate = schema?.['~standard']?.validate
  if (schema !== undefined && typeof validate !== 'function')
    throw new TypeError('Cannot use schema: it does not implement Standard Schema v1 (no ~standard.validate)')
  if (onInvalid !== 'throw' && onInvalid !== 'skip' && typeof onInvalid !== 'function')
    throw new TypeError(`Cannot use onInvalid: expected "throw", "skip" or a function, got ${String(onInvalid)}`)
  if (onGap !== 'throw' && onGap !== 'continue' && typeof onGap !== 'function')
    throw new TypeError("Cannot use onGap: expected 'throw', 'continue' or a function")
  const endOf = options.endMarker === undefined ? defaultEnd : options.endMarker || undefined
  if (endOf !== undefined && typeof endOf !== 'function')
    throw new TypeError('Cannot use endMarker: expected a function or false')
  const decoder = new TextDecoder('utf-8', { fatal, ignoreBOM: true })
  let parts = [] // a partial line's fragments, joined once its LF comes
  let partBytes = 0
  let carryOffset = 0 // byte offset of the partial line
  let bytes = 0 // bytes decoded before this chunk's text
  let line = 0
  let received = 0
  let first = true
  const invalid = (error) => {
    if (onInvalid === 'throw') throw error
    if (onInvalid !== 'skip') onInvalid(error)
  }
  const position = (text, at) => ({ line, offset: at(), snippet: snippetOf(text) })
  const SKIP = {}
  const END = {}
  function record(text, at) {
    let value
    try {
      value = JSON.parse(text)
    } catch (cause) {
      received++
      invalid(new ParseError(position(text, at), cause))
      return SKIP
    }
    if (isObject(value) && value.$sluice !== undefined) {
      if (value.$sluice === 'gap') {
        if (onGap === 'throw') throw new GapError(value, line)
        if (onGap !== 'continue') onGap(value)
        return SKIP
      }
      if (value.$sluice === 'entry') value = value.data
      if (isObject(value) && value.$sluice === 'live') return SKIP
    }
    const end = endOf?.(value)
    if (end) {
      if (end.count !== undefined && end.count !== received)
        throw new TruncatedStreamError('count-mismatch', { line, expected: end.count, received })
      return END
    }
    received++
    if (!validate) return value
    const settle = (result) => {
      if (!result.issues) return result.value
      invalid(new ValidationError(position(text, at), result.issues))
      return SKIP
    }
    const result = validate(value)
    return result instanceof Promise ? result.then(settle) : settle(result)
  }
  const tooLong = (text, at) => new LineTooLongError(maxLineBytes, line + 1, snippetOf(text), at())
  const onAbort = new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)))
  onAbort.catch(() => {})
  const chunks = chunksOf(source)
  try {
    for (;;) {
      signal?.throwIfAborted()
      const next = await (signal ? Promise.race([chunks.next(), onAbort]) : chunks.next())
      let text
      if (next.done) text = decoder.decode()
      else {
        const chunk = chunkOf(next.value)
        try {
          text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
        } catch (cause) {
          throw new EncodingError(bytes, cause)
        }
      }
      if (first && text) {
        first = false
        if (text.charCodeAt(0) === 0xfeff) {
          text = text.slice(1)
          bytes = 3
        }
      }
      const textStart = bytes
      const offsetOf = (index) => () => textStart + byteLength(text.slice(0, index))
      let start = 0
      for (let lf = text.indexOf('\n'); lf !== -1; lf = text.indexOf('\n', start)) {
        let lineText = text.slice(start, lf)
        let at = offsetOf(start)
        if (parts.length) {
          const carried = carryOffset
          lineText = parts.join('') + lineText
          at = () => carried
          parts = []
          partBytes = 0
        }
        if (lineText.length * 3 > maxLineBytes && byteLength(lineText) > maxLineBytes) throw tooLong(lineText, at)
        line++
        start = lf + 1
        if (!lineText.trim()) continue
        let out = record(lineText, at)
        if (out instanceof Promise) out = await out
        if (out === END) return
        if (out !== SKIP) yield out
      }
      if (start < text.length) {
        if (!parts.length) carryOffset = offsetOf(start)()
        const rest = text.slice(start)
        parts.push(rest)
        partBytes += byteLength(rest)
        if (partBytes > maxLineBytes) throw tooLong(parts[0], () => carryOffset)
      }
      bytes += typeof next.value === 'string' ? byteLength(next.value) : (next.value?.length ?? 0)
      if (next.done) {
        const last = parts.join('')
        if (last.trim()) {
          line++
          try {
            JSON.parse(last)
          } catch {
            throw new TruncatedStreamError('partial-record', { line, received, snippet: snippetOf(last) })
          }
          let out = record(last, () => carryOffset)
          if (out instanceof Promise) out = await out
          if (out === END) return
          if (out !== SKIP) yield out
        }
        if (requireEnd) throw new TruncatedStreamError('missing-end', { line, received })
        return
      }
    }
  } finally {
    await chunks.return?.()
  }
}

/**
 * NDJSON decoding vectors: `{ name, input, expected }`, with the error a vector ends in (after its
 * `expected` records) and the options it needs. Reused by the iterator and the TransformStream
 * tests, under every chunking of `test/chunkings.ts`.
 */
import type { NdjsonOptions } from '../../src/ndjson.js'
import type { ExpectedError } from './expected.js'

export interface NdjsonVector {
  name: string
  input: string
  expected: unknown[]
  error?: ExpectedError
  options?: NdjsonOptions<undefined>
}

const END = (count: number) => `{"$sluice":"end","count":${count}}`

export const ndjsonVectors: NdjsonVector[] = [
  { name: 'ndjson decodes nothing from an empty body', input: '', expected: [] },
  {
    name: 'ndjson decodes one record per LF-terminated line',
    input: '{"a":1}\n{"b":2}\n',
    expected: [{ a: 1 }, { b: 2 }],
  },
  { name: 'ndjson accepts CRLF line endings', input: '{"a":1}\r\n{"b":2}\r\n', expected: [{ a: 1 }, { b: 2 }] },
  {
    name: 'ndjson accepts LF and CRLF mixed in one stream',
    input: '{"a":1}\n{"b":2}\r\n{"c":3}\n',
    expected: [{ a: 1 }, { b: 2 }, { c: 3 }],
  },
  {
    name: 'ndjson decodes any JSON value per line, not just objects',
    input: '1\n"two"\nnull\ntrue\n[3,{"x":[]}]\n-0.5e2\n',
    expected: [1, 'two', null, true, [3, { x: [] }], -50],
  },
  { name: 'ndjson drops a leading BOM', input: '\uFEFF{"a":1}\n', expected: [{ a: 1 }] },
  {
    name: 'ndjson drops only one BOM: a second one is not JSON',
    input: '\uFEFF\uFEFF{"a":1}\n{"b":2}\n',
    expected: [],
    error: { code: 'PARSE_ERROR', line: 1, offset: 3, snippet: '\uFEFF{"a":1}' },
  },
  {
    name: 'ndjson decodes multi-byte UTF-8 (2, 3 and 4 bytes)',
    input: '{"s":"café"}\n{"s":"日本語"}\n{"s":"😀👍🏽"}\n{"é😀":"ü"}\n',
    expected: [{ s: 'café' }, { s: '日本語' }, { s: '😀👍🏽' }, { 'é😀': 'ü' }],
  },
  {
    name: 'ndjson skips blank and whitespace-only lines as heartbeats',
    input: '\n \n\t\r\n{"a":1}\n\n\n   \n{"b":2}\n\r\n',
    expected: [{ a: 1 }, { b: 2 }],
  },
  {
    name: 'ndjson keeps whitespace around a value on its line',
    input: '  {"a":1}  \r\n\t[2]\t\n',
    expected: [{ a: 1 }, [2]],
  },
  {
    name: 'ndjson accepts a complete last line without a newline',
    input: '{"a":1}\n{"b":2}',
    expected: [{ a: 1 }, { b: 2 }],
  },
  { name: 'ndjson accepts a last number without a newline', input: '1\n23', expected: [1, 23] },
  {
    name: 'ndjson raises truncation for an incomplete last line without a newline',
    input: '{"a":1}\n{"b":',
    expected: [{ a: 1 }],
    error: { code: 'TRUNCATED_STREAM', reason: 'partial-record', line: 2, received: 1, snippet: '{"b":' },
  },
  {
    name: 'ndjson raises truncation for a last line cut inside a multi-byte string',
    input: '{"a":1}\n{"s":"日本',
    expected: [{ a: 1 }],
    error: { code: 'TRUNCATED_STREAM', reason: 'partial-record', line: 2, snippet: '{"s":"日本' },
  },
  {
    name: 'ndjson ignores a whitespace-only last line without a newline',
    input: '{"a":1}\n  \t',
    expected: [{ a: 1 }],
  },
  {
    name: 'ndjson does not break lines at a lone CR',
    input: '{"a":1}\r{"b":2}\n',
    expected: [],
    error: { code: 'PARSE_ERROR', line: 1, offset: 0, snippet: '{"a":1}\r{"b":2}' },
  },
  {
    name: 'ndjson raises a parse error after delivering the records before it',
    input: '{"a":1}\n\n{"b":2}\n{"c":\n{"d":4}\n',
    expected: [{ a: 1 }, { b: 2 }],
    error: { code: 'PARSE_ERROR', line: 4, offset: 17, snippet: '{"c":' },
  },
  {
    name: 'ndjson counts byte offsets in UTF-8 bytes, the BOM included',
    input: '\uFEFF{"s":"é"}\r\n{"s":"😀"}\nnope\n',
    expected: [{ s: 'é' }, { s: '😀' }],
    error: { code: 'PARSE_ERROR', line: 3, offset: 3 + 10 + 2 + 13, snippet: 'nope' },
  },
  {
    name: 'ndjson skips invalid lines with onInvalid skip',
    input: '{"a":1}\nnot json\n{"b":2}\n{\n',
    expected: [{ a: 1 }, { b: 2 }],
    options: { onInvalid: 'skip' },
  },
  {
    name: 'ndjson ends on the end trailer and reads nothing after it',
    input: `{"a":1}\n{"b":2}\n${END(2)}\n{"after":true}\nnot even json\n`,
    expected: [{ a: 1 }, { b: 2 }],
  },
  { name: 'ndjson accepts an end trailer with a count of zero', input: `${END(0)}\n`, expected: [] },
  { name: 'ndjson accepts an end trailer without a newline', input: `{"a":1}\n${END(1)}`, expected: [{ a: 1 }] },
  {
    name: 'ndjson accepts an end trailer without a count',
    input: '{"a":1}\n{"$sluice":"end"}\n',
    expected: [{ a: 1 }],
  },
  {
    name: 'ndjson counts heartbeat lines toward line numbers but not toward the record count',
    input: `{"a":1}\n\n\n${END(1)}\r\n`,
    expected: [{ a: 1 }],
  },
  {
    name: 'ndjson raises count-mismatch when the trailer counts more records than arrived',
    input: `{"a":1}\n${END(2)}\n`,
    expected: [{ a: 1 }],
    error: { code: 'TRUNCATED_STREAM', reason: 'count-mismatch', line: 2, expected: 2, received: 1 },
  },
  {
    name: 'ndjson raises count-mismatch when the trailer counts fewer records than arrived',
    input: `{"a":1}\n{"b":2}\n\n${END(1)}\n`,
    expected: [{ a: 1 }, { b: 2 }],
    error: { code: 'TRUNCATED_STREAM', reason: 'count-mismatch', line: 4, expected: 1, received: 2 },
  },
  {
    name: 'ndjson counts skipped invalid records toward the trailer count',
    input: `{"a":1}\nbad\n${END(2)}\n`,
    expected: [{ a: 1 }],
    options: { onInvalid: 'skip' },
  },
  {
    name: 'ndjson yields an object whose $sluice key is not "end" as a record',
    input: '{"$sluice":"other","count":1}\n{"$sluice":1}\n',
    expected: [{ $sluice: 'other', count: 1 }, { $sluice: 1 }],
  },
  {
    name: 'ndjson without requireEnd accepts a stream that ends without the trailer',
    input: '{"a":1}\n',
    expected: [{ a: 1 }],
  },
  {
    name: 'ndjson with requireEnd raises missing-end when the trailer never comes',
    input: '{"a":1}\n{"b":2}\n',
    expected: [{ a: 1 }, { b: 2 }],
    error: { code: 'TRUNCATED_STREAM', reason: 'missing-end', received: 2, line: 2 },
    options: { requireEnd: true },
  },
  {
    name: 'ndjson with requireEnd raises missing-end on an empty body',
    input: '',
    expected: [],
    error: { code: 'TRUNCATED_STREAM', reason: 'missing-end', received: 0 },
    options: { requireEnd: true },
  },
  {
    name: 'ndjson with requireEnd accepts a stream ending in the trailer',
    input: `{"a":1}\n${END(1)}\n`,
    expected: [{ a: 1 }],
    options: { requireEnd: true },
  },
  {
    name: 'ndjson with endMarker false yields the trailer as a record',
    input: `{"a":1}\n${END(1)}\n{"b":2}\n`,
    expected: [{ a: 1 }, { $sluice: 'end', count: 1 }, { b: 2 }],
    options: { endMarker: false },
  },
  {
    name: 'ndjson with a custom endMarker ends on its marker and checks its count',
    input: `{"n":1}\n{"n":2}\n{"type":"done","total":2}\n{"n":3}\n`,
    expected: [{ n: 1 }, { n: 2 }],
    options: {
      endMarker: (v) =>
        typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'done'
          ? { count: (v as { total: number }).total }
          : undefined,
    },
  },
  {
    name: 'ndjson with a custom endMarker raises count-mismatch on a wrong count',
    input: `{"n":1}\n{"type":"done","total":5}\n`,
    expected: [{ n: 1 }],
    error: { code: 'TRUNCATED_STREAM', reason: 'count-mismatch', expected: 5, received: 1, line: 2 },
    options: {
      endMarker: (v) =>
        typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'done'
          ? { count: (v as { total: number }).total }
          : undefined,
    },
  },
  {
    name: 'ndjson with a custom endMarker yields the default trailer as a record',
    input: `${END(0)}\n{"done":true}\n`,
    expected: [{ $sluice: 'end', count: 0 }],
    options: { endMarker: (v) => (v as { done?: boolean }).done === true },
  },
]

import { test, expect } from 'vitest'
import { decodeNdjson, decodeSse } from '../src/index.js'
test('smoke', async () => {
  const enc = new TextEncoder()
  const chunks = [enc.encode('\uFEFF{"a":1}\r\n\n{"b":"é'), enc.encode('"}\n{"$sluice":"end","count":2}\n')]
  const out = []
  for await (const r of decodeNdjson(chunks)) out.push(r)
  expect(out).toEqual([{a:1},{b:'é'}])
  const ev = []
  for await (const e of decodeSse(['id: 1\ndata: x\n\n', 'data: y\r\revent: end\ndata: {"count":2}\n\n'])) ev.push(e)
  expect(ev).toEqual([{event:'message', data:'x', id:'1'},{event:'message', data:'y', id:'1'}])
})

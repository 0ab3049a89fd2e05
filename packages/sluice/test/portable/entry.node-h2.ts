/**
 * The portable suite's resume scenarios in Node over HTTP/2: every client gets undici's fetch with
 * `Agent({ allowH2: true })` through the `fetch` option, against the fixture server served by
 * sluice-server over TLS (`serve` with `tls`: HTTP/2 by ALPN). Cuts are HTTP/2 stream resets or
 * clean stream ends instead of closed sockets. The last test checks that undici negotiated h2
 * for every request (the server lists the HTTP versions it served).
 */
import { Agent, fetch as undiciFetch } from 'undici'
import { expect, inject, test } from 'vitest'
import './resume.portable.js'
import { runnable, runtime, serverUrl } from './harness.js'

runtime.name = 'node-h2'
runtime.serverUrl = inject('fixtureUrl')
// The test certificate (made by openssl in global-setup.ts) is trusted by this agent only.
const agent = new Agent({ allowH2: true, connect: { ca: inject('fixtureCa') } })
runtime.fetch = ((input: string | URL, init?: RequestInit) =>
  undiciFetch(input, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch

for (const t of runnable()) test(t.name, t.fn)

test('undici negotiated HTTP/2 for every request of the resume scenarios', async () => {
  const versions = (await (await runtime.fetch!(serverUrl('protocols'))).json()) as string[]
  expect(versions).toEqual(['2.0'])
})

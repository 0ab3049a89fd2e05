/**
 * vitest globalSetup for the portable suite (Node and Chromium projects): starts the loopback
 * fixture server in Node and provides its URL to the tests, wherever they run.
 */
import type { TestProject } from 'vitest/node'
import { makeCertificate } from '../../../sluice-server/test/helpers/certificate.js'
import { startFixtureServer } from './fixture-server.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    fixtureUrl: string
    /** The fixture server's certificate (PEM), for project `node-h2` (HTTPS + HTTP/2); '' otherwise. */
    fixtureCa: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (project.name === 'node-h2') {
    // A self-signed certificate made by openssl for this run, removed with the server.
    const certificate = await makeCertificate()
    const server = await startFixtureServer({ tls: { key: certificate.key, cert: certificate.cert } })
    project.provide('fixtureUrl', server.url)
    project.provide('fixtureCa', certificate.cert)
    return async () => {
      await server.close()
      await certificate.remove()
    }
  }
  const server = await startFixtureServer()
  project.provide('fixtureUrl', server.url)
  project.provide('fixtureCa', '')
  return () => server.close()
}

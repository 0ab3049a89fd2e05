/**
 * vitest globalSetup for the portable suite (Node and Chromium projects): starts the loopback
 * fixture server in Node and provides its URL to the tests, wherever they run.
 */
import type { TestProject } from 'vitest/node'
import { startFixtureServer } from './fixture-server.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    fixtureUrl: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startFixtureServer()
  project.provide('fixtureUrl', server.url)
  return () => server.close()
}

/** vitest globalSetup of the react project: starts the loopback series server and provides its URL to the page. */
import type { TestProject } from 'vitest/node'
import { startLiveServer } from './live-server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    liveServerUrl: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startLiveServer()
  project.provide('liveServerUrl', server.url)
  return () => server.close()
}

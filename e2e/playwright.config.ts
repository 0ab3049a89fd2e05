import { execFileSync } from 'node:child_process'
import { defineConfig } from '@playwright/test'
import { freePort } from './demo-server.js'

/** Debian's chromium, found at run time (browsers cannot be downloaded here); CHROMIUM_PATH overrides. */
function chromium(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH
  return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim()
}

// Chosen once, in the runner: the workers it spawns inherit the environment, so they agree on it.
process.env.DEMO_PORT ??= String(await freePort())
const port = Number(process.env.DEMO_PORT)

export default defineConfig({
  testDir: 'tests',
  // One worker: the demo's rate and the restart fault are shared by every page.
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  outputDir: '../.artifacts/e2e/output',
  reporter: [['list'], ['json', { outputFile: '../.artifacts/e2e/report.json' }]],
  // The demo, started as the README starts it (see demo-server.ts), stopped by pid afterwards.
  globalSetup: './global-setup.ts',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: chromium(),
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
    },
  },
})

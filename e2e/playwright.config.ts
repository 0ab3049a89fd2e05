import { execFileSync } from 'node:child_process'
import { defineConfig } from '@playwright/test'

/** Debian's chromium, found at run time (browsers cannot be downloaded here); CHROMIUM_PATH overrides. */
function chromium(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH
  return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim()
}

const port = Number(process.env.DEMO_PORT ?? 5273)

export default defineConfig({
  testDir: 'tests',
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  outputDir: '../.artifacts/e2e/output',
  reporter: [['list'], ['json', { outputFile: '../.artifacts/e2e/report.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: chromium(),
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
    },
  },
  // The demo, started exactly as the README starts it.
  webServer: {
    command: 'npm run demo',
    cwd: '..',
    env: { PORT: String(port) },
    url: `http://127.0.0.1:${port}/api/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'ignore',
  },
})

// Runs the Playwright suite and hands its counts to scripts/test.mjs through $SLUICE_RESULTS.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

// Screenshots, traces and the JSON report of this run only.
const artifacts = fileURLToPath(new URL('../.artifacts/e2e/', import.meta.url))
const report = `${artifacts}report.json`
rmSync(artifacts, { recursive: true, force: true })
const cli = fileURLToPath(new URL('./node_modules/@playwright/test/cli.js', import.meta.url))
const run = spawnSync(process.execPath, [cli, 'test'], {
  stdio: 'inherit',
  cwd: fileURLToPath(new URL('.', import.meta.url)),
})
let passed = 0
let failed = run.status === 0 ? 0 : 1
if (existsSync(report)) {
  const { stats } = JSON.parse(readFileSync(report, 'utf8'))
  passed = stats.expected + stats.flaky
  failed = stats.unexpected + (run.status !== 0 && stats.unexpected === 0 ? 1 : 0)
}
console.log(`e2e: ${passed + failed} tests run in chromium, ${passed} passed, ${failed} failed`)
if (process.env.SLUICE_RESULTS) {
  writeFileSync(process.env.SLUICE_RESULTS, JSON.stringify({ numPassedTests: passed, numFailedTests: failed }))
}
process.exit(failed > 0 ? 1 : 0)

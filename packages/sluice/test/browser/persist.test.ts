/**
 * `persist` in real Chromium: a page reading an endless NDJSON series is reloaded mid-stream; the
 * page started again continues from the id kept in sessionStorage, so the ids the two page loads
 * delivered are exactly 0..n, with no gap and no duplicate.
 */
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { type Browser, chromium } from 'playwright'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { CHROMIUM_ARGS, systemChromium } from './chromium.js'
import { type LiveServer, startLiveServer } from './live-server.js'

let server: LiveServer
let browser: Browser

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./persist-page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'silent',
  })
  server = await startLiveServer({
    page: '<!doctype html><meta charset="utf-8"><title>persist</title><body><script type="module" src="/page.js"></script></body>',
    script: bundle.outputFiles[0]!.text,
  })
  browser = await chromium.launch({ executablePath: systemChromium(), args: CHROMIUM_ARGS })
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

test('persist: reloaded mid-stream, the page continues from the stored id: every id once, in order', async () => {
  const page = await browser.newPage()
  await page.goto(server.url)
  const stored = () =>
    page.evaluate(() => ({ id: sessionStorage.getItem('ticks'), log: sessionStorage.getItem('log') ?? '' }))
  const delivered = async () => (await stored()).log.split(',').filter(Boolean).map(Number)
  await expect.poll(async () => (await delivered()).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(10)
  await page.reload()
  const beforeReload = (await delivered()).length
  // The reloaded page resumes from the last id delivered before the reload.
  await expect
    .poll(async () => (await delivered()).length, { timeout: 10_000 })
    .toBeGreaterThanOrEqual(beforeReload + 10)
  await page.evaluate(() => window.stop())
  const { id, log } = await stored()
  const got = log.split(',').filter(Boolean).map(Number)
  await page.close()
  expect(got.join(','), 'ids delivered over both page loads').toBe(got.map((_, i) => i).join(','))
  // The stored id is the last delivered (page logs and persist write in the same task).
  expect(id).toBe(String(got.at(-1)))
  expect(server.stats().total).toBeGreaterThanOrEqual(2)
})

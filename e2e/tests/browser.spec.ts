/**
 * Browser-only behaviour of the resilient streams, in real Chromium: no retries burn while offline,
 * and `pauseWhenHidden` disconnects a hidden page and resumes from the last id when it is shown.
 */
import { expect, test } from '@playwright/test'

/** The part of a sluice `RecordStream` these tests touch (e2e does not depend on the package). */
interface LabStream extends AsyncIterable<{ seq: number }> {
  state: string
  counters: { reconnects: number }
  close(): void
}

/** What lab.html and these tests keep on `window`. */
interface Lab {
  // No idOf: the demo serves a feed, whose NDJSON lines carry the entry ids a stream resumes from.
  sluice: { ndjson(url: string, options: object): LabStream }
  stream: LabStream
  seen: number[]
  retries: number
  setHidden(hidden: boolean): void
}

test.beforeEach(async ({ page }) => {
  await page.goto('/lab.html')
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
})

test('offline: no attempt is made (no retry burnt) until the browser is online again', async ({ page, context }) => {
  await context.setOffline(true)
  const client = `offline-${Date.now()}`
  await page.evaluate((client) => {
    const w = window as unknown as Lab
    w.seen = []
    w.retries = 0
    w.stream = w.sluice.ndjson(`/api/metrics.ndjson?client=${client}`, { onRetry: () => w.retries++ })
    void (async () => {
      for await (const m of w.stream) w.seen.push(m.seq)
    })()
  }, client)
  // While offline the stream waits in `retrying` without a single request or retry.
  await expect.poll(() => page.evaluate(() => (window as unknown as Lab).stream.state)).toBe('retrying')
  const sentWhileOffline = await (await page.request.get(`/api/debug/sent?client=${client}`)).json()
  expect(sentWhileOffline.ids).toEqual([])
  expect(await page.evaluate(() => (window as unknown as Lab).retries)).toBe(0)
  await context.setOffline(false)
  await expect.poll(() => page.evaluate(() => (window as unknown as Lab).seen.length)).toBeGreaterThan(2)
  expect(await page.evaluate(() => (window as unknown as Lab).retries)).toBe(0)
  await page.evaluate(() => (window as unknown as Lab).stream.close())
})

test('pauseWhenHidden: a hidden page disconnects, and resumes from the last id with no gap', async ({ page }) => {
  const client = `hidden-${Date.now()}`
  await page.evaluate((client) => {
    const w = window as unknown as Lab
    let hidden = false
    Object.defineProperty(document, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible') })
    w.setHidden = (value: boolean) => {
      hidden = value
      document.dispatchEvent(new Event('visibilitychange'))
    }
    w.seen = []
    w.stream = w.sluice.ndjson(`/api/metrics.ndjson?client=${client}`, { pauseWhenHidden: true })
    void (async () => {
      for await (const m of w.stream) w.seen.push(m.seq)
    })()
  }, client)
  await expect.poll(() => page.evaluate(() => (window as unknown as Lab).seen.length)).toBeGreaterThan(2)
  await page.evaluate(() => (window as unknown as Lab).setHidden(true))
  await expect.poll(() => page.evaluate(() => (window as unknown as Lab).stream.state)).toBe('retrying')
  const whileHidden = await page.evaluate(() => (window as unknown as Lab).seen.length)
  // Hidden: nothing more arrives (the connection is closed, not merely ignored).
  await page.waitForTimeout(600)
  expect(await page.evaluate(() => (window as unknown as Lab).seen.length)).toBe(whileHidden)
  await page.evaluate(() => (window as unknown as Lab).setHidden(false))
  await expect.poll(() => page.evaluate(() => (window as unknown as Lab).seen.length)).toBeGreaterThan(whileHidden + 2)
  const seen: number[] = await page.evaluate(() => (window as unknown as Lab).seen)
  // The feed's history starts at its oldest sample held: consecutive from there.
  expect(seen).toEqual(seen.map((_, i) => seen[0]! + i))
  expect(await page.evaluate(() => (window as unknown as Lab).stream.counters.reconnects)).toBeGreaterThan(0)
  await page.evaluate(() => (window as unknown as Lab).stream.close())
})

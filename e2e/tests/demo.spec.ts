import { expect, test, type Page } from '@playwright/test'

interface DemoDebug {
  client: string
  ids: number[]
  rejected: number
  reconnects: number
  state: string
  firstRecordMs?: number
}

const debug = (page: Page) => page.evaluate(() => (window as unknown as { __sluiceDemo: DemoDebug }).__sluiceDemo)

/** The page's ids are 0..n with no gap and no duplicate, and equal the distinct ids the server sent. */
async function expectReceivedEqualsSent(page: Page) {
  await expect
    .poll(
      async () => {
        const { client, ids } = await debug(page)
        const response = await page.request.get(`/api/debug/sent?client=${client}`)
        const sent = ((await response.json()) as { ids: number[] }).ids
        return ids.length > 0 && ids.every((id, i) => id === i) && JSON.stringify(sent) === JSON.stringify(ids)
      },
      { message: 'received ids equal the sent ids, contiguous from 0', timeout: 20_000 },
    )
    .toBe(true)
}

async function recordsGrowBy(page: Page, count: number) {
  const start = (await debug(page)).ids.length
  await expect.poll(async () => (await debug(page)).ids.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(start + count)
}

async function openDemo(page: Page) {
  await page.goto('/')
  await expect(page.locator('#badge')).toHaveText('open')
  await recordsGrowBy(page, 2)
}

test('the first record is on screen while the stream is still open', async ({ page }) => {
  await page.goto('/')
  await expect(page.locator('#c-last')).not.toHaveText('–')
  const first = await debug(page)
  expect(first.state).toBe('open')
  expect(first.firstRecordMs).toBeLessThan(5000)
  await expect(page.locator('#badge')).toHaveAttribute('data-state', 'open')
  // Still the same connection, still delivering: incremental, not store-and-forward.
  await recordsGrowBy(page, 3)
  expect((await debug(page)).reconnects).toBe(0)
  await page.setViewportSize({ width: 1280, height: 900 })
  await page.screenshot({ path: '../.artifacts/e2e/desktop.png', fullPage: true })
})

for (const [fault, label] of [
  ['cut', 'Cut mid-record'],
  ['stall', 'Stall (idle timeout)'],
  ['truncate', 'Truncate (no end marker)'],
  ['restart', 'Restart server'],
] as const) {
  test(`NDJSON recovers from "${label}" with no gap and no duplicate`, async ({ page }) => {
    await openDemo(page)
    await page.getByRole('button', { name: label }).click()
    await expect.poll(async () => (await debug(page)).reconnects, { timeout: 20_000 }).toBeGreaterThan(0)
    await expect(page.locator('#badge')).toHaveText('open', { timeout: 20_000 })
    await recordsGrowBy(page, 3)
    await expectReceivedEqualsSent(page)
    await expect(page.locator('#log')).toContainText('retry')
  })
}

for (const [fault, label] of [
  ['malformed', 'Malformed record'],
  ['invalid', 'Record failing the schema'],
] as const) {
  test(`a ${fault} record is counted as rejected and the stream goes on`, async ({ page }) => {
    await openDemo(page)
    await page.getByRole('button', { name: label }).click()
    await expect(page.locator('#c-rejected')).toHaveText('1')
    await recordsGrowBy(page, 3)
    const after = await debug(page)
    expect(after.reconnects).toBe(0)
    expect(after.state).toBe('open')
    await expectReceivedEqualsSent(page)
  })
}

test('a slow trickle keeps the stream open and loses nothing', async ({ page }) => {
  await openDemo(page)
  await page.getByRole('button', { name: 'Slow to a trickle' }).click()
  await recordsGrowBy(page, 1)
  expect((await debug(page)).reconnects).toBe(0)
  await expectReceivedEqualsSent(page)
})

test('SSE recovers from a cut mid-record too', async ({ page }) => {
  await openDemo(page)
  await page.getByLabel('Format').selectOption('sse')
  await expect.poll(async () => (await debug(page)).ids.length, { timeout: 20_000 }).toBeGreaterThan(2)
  await page.getByRole('button', { name: 'Cut mid-record' }).click()
  await expect.poll(async () => (await debug(page)).reconnects, { timeout: 20_000 }).toBeGreaterThan(0)
  await recordsGrowBy(page, 3)
  await expectReceivedEqualsSent(page)
})

test('the dashboard fits a narrow mobile viewport', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 })
  await openDemo(page)
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  expect(overflow).toBeLessThanOrEqual(0)
  await page.screenshot({ path: '../.artifacts/e2e/mobile.png', fullPage: true })
})

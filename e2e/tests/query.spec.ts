/**
 * The demo's query page (/query.html): a generated table of 1,000,000 rows streamed with ndjson().
 * Rows show from the start, the page keeps at most 50 of them, "Pause reading" stops the row count
 * (nothing is pulled, so the server produces nothing either) and resuming continues from there.
 */
import { expect, test } from '@playwright/test'

const count = async (text: Promise<string | null>) => Number((await text)?.replace(/,/g, '') ?? 0)

test('the query page streams a million-row table, keeps 50 rows, and pausing stops the rows', async ({ page }) => {
  await page.goto('/')
  await page.getByRole('link', { name: /Query/ }).click()
  await expect(page).toHaveURL(/\/query\.html$/)
  // The buttons are in the HTML before query.ts has attached their handlers: a click before is lost.
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
  await page.selectOption('#q-rows', '1000000')
  await page.click('#q-run')
  await expect(page.locator('#q-first')).toHaveText(/^\d+ ms$/)
  await expect.poll(() => count(page.textContent('#q-count'))).toBeGreaterThan(1000)
  await page.click('#q-pause')
  await expect(page.locator('#q-state')).toHaveText(/paused/)
  const paused = await count(page.textContent('#q-count'))
  // A paused reader pulls nothing: the count holds (checked twice, half a second apart).
  await page.waitForTimeout(500)
  expect(await count(page.textContent('#q-count'))).toBe(paused)
  expect(await page.locator('#q-table tbody tr').count()).toBeLessThanOrEqual(50)
  await page.click('#q-pause')
  await expect.poll(() => count(page.textContent('#q-count'))).toBeGreaterThan(paused)
  // Rows are in id order: the newest row shown is the last id received.
  expect(Number(await page.locator('#q-table tbody tr').first().locator('td').first().textContent())).toBeGreaterThan(
    paused,
  )
  await page.click('#q-stop')
  await expect(page.locator('#q-state')).toHaveText('stopped')
})

/**
 * What the dashboard specs read from the demo page (`window.__sluiceDemo`, see demo/src/main.ts) and
 * the checks they share, against whichever server the page was loaded from (the demo or the cluster).
 */
import { expect, type Page } from '@playwright/test'

export interface DemoDebug {
  client: string
  format: 'ndjson' | 'sse'
  ids: number[]
  rejected: number
  reconnects: number
  gaps: number
  state: string
  firstRecordMs?: number
  renders: number
  feed: string[]
  history: number[]
  instances: string[]
}

export const debug = (page: Page) =>
  page.evaluate(() => (window as unknown as { __sluiceDemo: DemoDebug }).__sluiceDemo)

/**
 * The page's ids are consecutive (from the oldest sample the feed held when it opened), with no gap
 * and no duplicate, and equal the distinct ids the server sent. Polled: at a few records per second
 * there are moments with no record in flight, when both agree.
 */
export async function expectReceivedEqualsSent(page: Page) {
  await expect
    .poll(
      async () => {
        const { client, ids, gaps } = await debug(page)
        const response = await page.request.get(new URL(`/api/debug/sent?client=${client}`, page.url()).href)
        const sent = ((await response.json()) as { ids: number[] }).ids
        return {
          gaps,
          consecutive: ids.length > 0 && ids.every((id, i) => id === ids[0]! + i),
          receivedEqualsSent: JSON.stringify(sent) === JSON.stringify(ids),
          received: ids.length,
          sent: sent.length,
        }
      },
      { message: 'received ids equal the sent ids, consecutive', timeout: 20_000 },
    )
    .toMatchObject({ gaps: 0, consecutive: true, receivedEqualsSent: true })
}

/** Waits until the page has folded `count` more records. */
export async function recordsGrowBy(page: Page, count: number) {
  const start = (await debug(page)).ids.length
  await expect
    .poll(async () => (await debug(page)).ids.length, { timeout: 20_000 })
    .toBeGreaterThanOrEqual(start + count)
}

/**
 * The cluster demo (demo/cluster.ts, `npm run demo:cluster`) in real Chromium: Debian's redis-server,
 * three API instances on one redisFeed and a real nginx in front. The page streams through nginx;
 * "Restart server" kills the instance serving it (`kill -9`, then it is started again); the page
 * goes on served by another instance, with exactly the ids the instances sent, none lost or repeated.
 */
import { expect, test } from '@playwright/test'
import { debug, expectReceivedEqualsSent, recordsGrowBy } from '../dashboard.js'
import { freePort, type RunningDemo, startCluster } from '../demo-server.js'

let cluster: RunningDemo | undefined

test.describe.configure({ mode: 'serial' })
test.beforeAll(async () => {
  test.setTimeout(60_000)
  cluster = await startCluster(await freePort())
})
test.afterAll(async () => {
  await cluster?.stop()
})

for (const format of ['ndjson', 'sse'] as const) {
  test(`${format}: a kill -9 of the instance serving the page, and it goes on from another with no gap`, async ({
    page,
  }) => {
    await page.goto(`${cluster!.url}?format=${format}`)
    await expect(page.locator('#feed')).toHaveText('live')
    await recordsGrowBy(page, 2)
    const serving = (await debug(page)).instances.at(-1)!
    expect(serving).toMatch(/^[abc]$/)
    await expect(page.locator('#instance')).toHaveText(serving)

    await page.getByRole('button', { name: 'Restart server' }).click()
    await expect(page.locator('#log')).toContainText(`instance ${serving} killed (kill -9 of pid`)
    await expect(page.locator('#log')).toContainText('connection retrying')
    // Resumed through nginx on another instance, from the feed they share.
    await expect.poll(async () => (await debug(page)).instances.length, { timeout: 20_000 }).toBeGreaterThan(1)
    const { instances } = await debug(page)
    expect(instances.at(-1)).not.toBe(serving)
    expect(new Set(instances).size).toBeGreaterThanOrEqual(2)
    await expect(page.locator('#instance')).toHaveText(instances.at(-1)!)
    await expect(page.locator('#feed')).toHaveText('live')
    // Records keep coming (if the killed instance was the publisher, another takes the lease over).
    await recordsGrowBy(page, 5)
    await expectReceivedEqualsSent(page)
    await expect(page.locator('#c-gaps')).toHaveText('0')
  })
}

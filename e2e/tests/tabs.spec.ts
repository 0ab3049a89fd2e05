/**
 * One connection for all tabs (sluice/store with shareAcrossTabs), in the demo: several dashboard tabs
 * of one browser context and the React page hold one streaming connection to the server between
 * them, one tab leads and the others follow, and every tab folds exactly the ids the server sent.
 */
import { expect, type Page, test } from '@playwright/test'

interface DemoDebug {
  client: string
  ids: number[]
  gaps: number
  role: string
  serverStreams?: number
}

const debug = (page: Page) => page.evaluate(() => (window as unknown as { __sluiceDemo: DemoDebug }).__sluiceDemo)
const streams = async (page: Page) =>
  ((await (await page.request.get('/api/connections')).json()) as { streaming: number }).streaming

test('four dashboard tabs and the React page share one connection and fold the same ids', async ({ context }) => {
  test.setTimeout(120_000)
  const tabs: Page[] = []
  for (let i = 0; i < 4; i++) {
    const page = await context.newPage()
    await page.goto('/')
    await expect(page.locator('#c-last')).toHaveText(/^\d+$/)
    tabs.push(page)
  }
  const react = await context.newPage()
  await react.goto('/react.html')
  await expect(react.locator('#c-last')).toHaveText(/^\d+$/)

  // One leader, the rest follow; the page shows the role and the server's count.
  await expect
    .poll(async () => (await Promise.all(tabs.map(async (t) => (await debug(t)).role))).sort())
    .toEqual(['follower', 'follower', 'follower', 'leader'])
  await expect(react.locator('#c-role')).toHaveText('follower')
  await expect.poll(() => streams(tabs[0]!)).toBe(1)
  for (const page of tabs) await expect(page.locator('#c-connections')).toHaveText('1')
  await expect(react.locator('#c-connections')).toHaveText('1')

  // Every tab folds the server's sent ids in order, none skipped or repeated: a prefix of them at any
  // moment (a hidden tab publishes up to a second late), and all of them once the series slows to a trickle.
  const { client } = await debug(tabs[0]!)
  const compare = async () => {
    // The tabs first, then the server: a record sent in between is in `sent` only, never in a tab only.
    const views = await Promise.all(tabs.map(debug))
    const reactLast = await react.locator('#c-last').textContent()
    const sent = ((await (await tabs[0]!.request.get(`/api/debug/sent?client=${client}`)).json()) as { ids: number[] })
      .ids
    return {
      prefixes: views.every(
        (v) =>
          v.gaps === 0 && v.ids.length > 0 && JSON.stringify(v.ids) === JSON.stringify(sent.slice(0, v.ids.length)),
      ),
      equal: views.every((v) => JSON.stringify(v.ids) === JSON.stringify(sent)) && reactLast === String(sent.at(-1)),
    }
  }
  expect((await compare()).prefixes).toBe(true)
  await tabs[0]!.getByRole('button', { name: 'Slow to a trickle' }).click()
  await expect
    .poll(compare, { timeout: 20_000, message: "every tab's ids equal the server's sent ids" })
    .toEqual({ prefixes: true, equal: true })

  // Closing the leader hands the stream to another tab: still one connection, ids still continuous.
  const roles = await Promise.all(tabs.map(async (t) => (await debug(t)).role))
  const leader = tabs[roles.indexOf('leader')]!
  await leader.close()
  tabs.splice(tabs.indexOf(leader), 1)
  await expect
    .poll(
      async () =>
        (
          await Promise.all([...tabs.map(async (t) => (await debug(t)).role), react.locator('#c-role').textContent()])
        ).filter((r) => r === 'leader').length,
    )
    .toBe(1)
  await expect.poll(() => streams(tabs[0]!)).toBe(1)
  const before = (await debug(tabs[0]!)).ids.length
  await expect.poll(async () => (await debug(tabs[0]!)).ids.length).toBeGreaterThan(before + 3)
  for (const page of tabs) expect((await debug(page)).gaps).toBe(0)
  await expect(react.locator('#c-gaps')).toHaveText('0')
})

/**
 * One connection for all tabs, in real Chromium: several pages of one browser context open the same
 * shared store (tabs-page.ts) against a loopback server that counts its streaming connections.
 * 8 tabs hold 1 connection; closing the leader hands the stream to another tab within a second;
 * after three leader kills every tab's folded ids equal the ids the server sent, and a tab opened
 * late shows the same state.
 */
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { CHROMIUM_ARGS, systemChromium } from './chromium.js'
import { type LiveServer, startLiveServer } from './live-server.js'

interface TabView {
  role: string
  state: string
  ids: number[]
}

let server: LiveServer
let browser: Browser
let context: BrowserContext

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./tabs-page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'silent',
  })
  server = await startLiveServer({
    page: '<!doctype html><meta charset="utf-8"><title>tab</title><body><script type="module" src="/page.js"></script></body>',
    script: bundle.outputFiles[0]!.text,
  })
  browser = await chromium.launch({ executablePath: systemChromium(), args: CHROMIUM_ARGS })
  context = await browser.newContext()
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

async function openTab(): Promise<Page> {
  const page = await context.newPage()
  await page.goto(server.url)
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' })
  return page
}

const view = (page: Page): Promise<TabView> =>
  page.evaluate(() => {
    const snap = (
      window as unknown as { __tabs: { store: { getSnapshot(): { role: string; state: string; value: number[] } } } }
    ).__tabs.store.getSnapshot()
    return { role: snap.role, state: snap.state, ids: snap.value }
  })

async function leaderOf(pages: Page[]): Promise<Page> {
  let leader: Page | undefined
  await expect
    .poll(
      async () => {
        const roles = await Promise.all(pages.map(async (page) => (await view(page)).role))
        leader = pages[roles.indexOf('leader')]
        return roles.filter((role) => role === 'leader').length
      },
      { timeout: 10_000, message: 'exactly one tab is the leader' },
    )
    .toBe(1)
  return leader!
}

/** Waits until the server has written `more` further records. */
async function flows(more: number) {
  const start = server.stats().sent.length
  await expect.poll(() => server.stats().sent.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(start + more)
}

test('8 tabs hold 1 connection; three leader kills hand over within a second each, every tab folds exactly the ids sent', async () => {
  const pages: Page[] = []
  for (let i = 0; i < 8; i++) pages.push(await openTab())
  let leader = await leaderOf(pages)
  await flows(20)
  // Every tab follows, and the server only ever saw one streaming connection.
  expect(server.stats()).toMatchObject({ open: 1, total: 1 })
  const roles = await Promise.all(pages.map(async (page) => (await view(page)).role))
  expect(roles.sort()).toEqual([
    'follower',
    'follower',
    'follower',
    'follower',
    'follower',
    'follower',
    'follower',
    'leader',
  ])

  const handovers: number[] = []
  for (let kill = 1; kill <= 3; kill++) {
    const before = server.stats().total
    const closedAt = Date.now()
    await leader.close()
    pages.splice(pages.indexOf(leader), 1)
    // The next tab in the lock's queue opens the stream from the last id it folded.
    await expect.poll(() => server.stats().total, { timeout: 5_000, interval: 10 }).toBe(before + 1)
    handovers.push(Date.now() - closedAt)
    leader = await leaderOf(pages)
    await flows(20)
    expect(server.stats().open).toBe(1)
  }
  console.log(`tabs: hand-over after closing the leader, server saw the new connection in ${handovers.join(', ')} ms`)
  for (const ms of handovers) expect(ms).toBeLessThan(1000)

  const late = await openTab()
  pages.push(late)
  await flows(10)
  expect(server.stats()).toMatchObject({ open: 1, total: 4 })

  // Hold the series, then every tab (the late one too) must show exactly what the server sent.
  await fetch(`${server.url}/pause`, { method: 'POST' })
  try {
    await expect
      .poll(
        async () => {
          const sent = server.stats().sent
          const views = await Promise.all(pages.map(view))
          return views.map((v) => ({
            equalsSent: JSON.stringify(v.ids) === JSON.stringify(sent),
            contiguous: v.ids.every((id, i) => id === i),
          }))
        },
        { timeout: 10_000, message: "every tab's folded ids equal the server's sent ids" },
      )
      .toEqual(pages.map(() => ({ equalsSent: true, contiguous: true })))
  } finally {
    await fetch(`${server.url}/resume`, { method: 'POST' })
  }
  expect(server.stats().sent.length).toBeGreaterThan(100)
})

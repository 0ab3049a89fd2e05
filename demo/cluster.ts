/**
 * `npm run demo:cluster`: the demo as a real cluster. Debian's redis-server (temp dir, free
 * loopback port), three API instances (cluster/instance.ts) sharing one `redisFeed`, nginx in
 * front of them, and this process, the supervisor: it serves the page (Vite) and the controls that
 * act on every instance, and on "Restart server" kills the instance serving the page with
 * `kill -9` and starts it again. Prints the URL; Ctrl-C stops everything, each process by its pid.
 *
 * One instance publishes at a time: the holder of a lease in Redis (cluster/shared.ts).
 *
 * Env: PORT (nginx's; default a free one), REDIS_SERVER and NGINX (the binaries' paths).
 */

import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer as createVite } from 'vite'
import {
  checkFree,
  findBinary,
  freePort,
  type Running,
  run,
  startNginx,
  startRedis,
  untilListening,
} from './cluster/processes.js'

const root = fileURLToPath(new URL('.', import.meta.url))
const NAMES = ['a', 'b', 'c'] as const

interface Instance {
  name: string
  port: number
  process: Running | undefined
}

let redisBinary: string
let nginxBinary: string
try {
  redisBinary = findBinary('redis-server', 'redis-server', 'REDIS_SERVER')
  nginxBinary = findBinary('nginx', 'nginx', 'NGINX')
} catch (error) {
  console.error((error as Error).message)
  process.exit(1)
}

const startedAt = Date.now()
let perSecond = 8
const dir = await mkdtemp(join(tmpdir(), 'sluice-demo-cluster-'))
/** How to stop what was started besides the instances, in the order started. */
const stops: (() => Promise<void>)[] = []
const instances: Instance[] = []
let redisUrl = ''
let stopping = false

async function stopAll(): Promise<void> {
  stopping = true
  // nginx first (the last started), so no request reaches an instance on its way out.
  for (const stop of [...stops].reverse()) await stop()
  await Promise.all(instances.map((i) => i.process?.stop()))
  await rm(dir, { recursive: true, force: true })
}

/** Starts (or starts again) `instance` and resolves once it listens. */
async function spawnInstance(instance: Instance): Promise<void> {
  if (stopping) return
  const child = run(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', 'cluster/instance.ts'], {
    cwd: root,
    echo: true,
    env: {
      ...process.env,
      PORT: String(instance.port),
      NAME: instance.name,
      REDIS_URL: redisUrl,
      STARTED_AT: String(startedAt),
      PER_SECOND: String(perSecond),
    },
  })
  instance.process = child
  void child.exited.then(() => {
    if (!stopping && instance.process === child) console.log(`instance ${instance.name} exited`)
  })
  await untilListening(instance.port, child, `instance ${instance.name}`, 60_000)
}

/** Sends `path` to every instance that answers; the answers of those that did. */
async function toEvery(path: string, method: 'GET' | 'POST'): Promise<Record<string, unknown>> {
  const answers = await Promise.all(
    instances.map(async ({ name, port }) => {
      try {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, { method })
        return [name, await response.json()] as const
      } catch {
        return undefined // being restarted
      }
    }),
  )
  return Object.fromEntries(answers.filter((answer) => answer !== undefined))
}

/** `kill -9` of `instance`, then the same instance started again (in the background). */
async function restart(instance: Instance): Promise<{ instance: string; pid: number }> {
  const child = instance.process!
  const pid = child.child.pid!
  instance.process = undefined // killed on purpose: not reported as an exit
  process.kill(pid, 'SIGKILL')
  await child.exited
  console.log(`instance ${instance.name} killed (kill -9 of pid ${pid}); starting it again`)
  void spawnInstance(instance).then(
    () => console.log(`instance ${instance.name} running again (pid ${instance.process?.child.pid})`),
    (error: Error) => console.error(error.message),
  )
  return { instance: instance.name, pid }
}

/** The controls that act on the whole cluster; the rest of the API is the instances'. */
async function control(request: IncomingMessage, url: URL): Promise<[number, unknown]> {
  const path = url.pathname
  if (path === '/api/connections') {
    const counts = (await toEvery('/api/connections', 'GET')) as Record<string, { streaming: number }>
    const each = Object.fromEntries(Object.entries(counts).map(([name, { streaming }]) => [name, streaming]))
    return [200, { streaming: Object.values(each).reduce((sum, n) => sum + n, 0), instances: each }]
  }
  if (path === '/api/rate' && request.method === 'GET') return [200, { perSecond }]
  if (path === '/api/rate' && request.method === 'POST') {
    const value = Number(url.searchParams.get('perSecond'))
    if (!(value >= 1 && value <= 200)) return [400, { error: 'perSecond must be 1 to 200' }]
    perSecond = value // for instances started later
    await toEvery(`/api/rate?perSecond=${value}`, 'POST')
    return [200, { perSecond }]
  }
  const fault = /^\/api\/faults\/([a-z]+)$/.exec(path)?.[1]
  if (fault === 'restart' && request.method === 'POST') {
    // The instance serving the page that asked (it names it), else the one holding the most streams.
    const named = instances.find((i) => i.name === url.searchParams.get('instance'))
    const counts = (await toEvery('/api/connections', 'GET')) as Record<string, { streaming: number }>
    const busiest = [...instances].sort((x, y) => (counts[y.name]?.streaming ?? 0) - (counts[x.name]?.streaming ?? 0))
    const target = [named, ...busiest].find((i) => i?.process !== undefined && i.process.child.exitCode === null)
    if (target === undefined) return [503, { error: 'no instance is running' }]
    return [200, { fault, killed: await restart(target) }]
  }
  if (fault !== undefined && request.method === 'POST') {
    const answers = (await toEvery(`/api/faults/${fault}`, 'POST')) as Record<string, { streams?: number }>
    const streams = Object.values(answers).reduce((sum, answer) => sum + (answer.streams ?? 0), 0)
    return [200, { fault, streams }]
  }
  return [404, { error: 'not found' }]
}

try {
  const port = Number(process.env.PORT ?? (await freePort()))
  await checkFree(port)
  const redisPort = await freePort()
  await mkdir(join(dir, 'redis'))
  const redis = await startRedis(redisBinary, redisPort, join(dir, 'redis'))
  stops.push(redis.stop)
  redisUrl = `redis://127.0.0.1:${redisPort}`
  for (const name of NAMES) instances.push({ name, port: await freePort(), process: undefined })
  await Promise.all(instances.map(spawnInstance))

  const vite = await createVite({
    root,
    configFile: `${root}vite.config.ts`,
    // Its own cache: `npm run demo` may be running beside it, optimising into the default one.
    cacheDir: 'node_modules/.vite-cluster',
    server: { middlewareMode: true, hmr: false },
    appType: 'spa',
  })
  const supervisor = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    if (!url.pathname.startsWith('/api/')) return vite.middlewares(request, response)
    control(request, url).then(
      ([status, body]) =>
        response
          .writeHead(status, {
            'content-type': 'application/json',
            'cache-control': 'no-store',
            'sluice-instance': 'supervisor',
          })
          .end(JSON.stringify(body)),
      (error: Error) => response.writeHead(500).end(error.message),
    )
  })
  const controlPort = await freePort()
  await new Promise<void>((resolve) => supervisor.listen(controlPort, '127.0.0.1', resolve))
  stops.push(async () => {
    supervisor.closeAllConnections()
    supervisor.close()
    await vite.close()
  })

  await mkdir(join(dir, 'nginx'))
  const apiPorts = instances.map((i) => i.port)
  const nginx = await startNginx(nginxBinary, join(dir, 'nginx'), { port, apiPorts, controlPort })
  stops.push(nginx.stop)
  const pids = instances.map((i) => `${i.name} (pid ${i.process?.child.pid}, port ${i.port})`).join(', ')
  console.log(`redis-server on port ${redisPort}; API instances ${pids}; nginx on port ${port}`)
  console.log(`sluice demo: http://127.0.0.1:${port}/ (cluster: 3 API instances on Redis behind nginx)`)
} catch (error) {
  console.error((error as Error).message)
  await stopAll()
  process.exit(1)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => void stopAll().then(() => process.exit(0)))
}
// A supervisor that dies leaves nothing running behind it.
process.on('uncaughtException', (error) => {
  console.error(error)
  void stopAll().then(() => process.exit(1))
})

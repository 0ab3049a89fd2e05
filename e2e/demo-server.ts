/**
 * The demo for the end-to-end tests, started exactly as the README starts it (`npm run demo`, from
 * the root), with `PORT` set to a free loopback port, and stopped by its process group's id; and
 * the cluster demo (demo/cluster.ts, what `npm run demo:cluster` runs after its bootstrap).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** A port nothing listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface RunningDemo {
  /** The URL the demo printed. */
  url: string
  stop(): Promise<void>
}

/**
 * Starts the demo on `port` and resolves once it has printed its URL (which must be on that port).
 * The demo runs in its own process group, so `stop` ends npm, pnpm, node and Vite together.
 */
export function startDemo(port: number, timeoutMs = 120_000): Promise<RunningDemo> {
  return start('npm', ['run', 'demo'], root, port, timeoutMs)
}

/**
 * Starts the cluster demo (redis-server, three API instances, nginx on `port`, the supervisor)
 * without `npm run`'s bootstrap (a `pnpm install` that takes tens of seconds on a busy machine).
 * `stop` ends its process group: the supervisor and every process it started.
 */
export function startCluster(port: number, timeoutMs = 45_000): Promise<RunningDemo> {
  const args = ['--conditions=sluice-source', '--import', 'tsx', 'cluster.ts']
  return start(process.execPath, args, `${root}demo`, port, timeoutMs)
}

function start(command: string, args: string[], cwd: string, port: number, timeoutMs: number): Promise<RunningDemo> {
  const child: ChildProcess = spawn(command, args, {
    cwd,
    env: { ...process.env, PORT: String(port) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    try {
      process.kill(-child.pid!, 'SIGTERM')
    } catch {
      return // the group is gone already
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {}
    }, 5_000)
    await exited
    clearTimeout(timer)
  }
  let output = ''
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => {
      clearTimeout(timer)
      void stop().then(() => reject(new Error(`Cannot start the demo: ${reason}\n${output}`)))
    }
    const timer = setTimeout(() => fail(`no URL printed within ${timeoutMs} ms`), timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const url = /sluice demo: (http:\/\/\S+)/.exec(output)?.[1]
      if (url === undefined) return
      clearTimeout(timer)
      child.stdout!.off('data', onData)
      // Keep draining, or a chatty server would block on a full pipe.
      child.stdout!.resume()
      if (new URL(url).port !== String(port)) return fail(`it printed ${url}, not port ${port}`)
      resolve({ url, stop })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('exit', (code) => fail(`it exited with code ${code}`))
  })
}

/**
 * A real Redis for tests: Debian's `redis-server`, run in the foreground as a child process in a
 * temp dir on a free loopback port, stopped by pid. `kill9()` and `restart()` (same port, same
 * dir: with AOF it reloads what it had) drive the crash tests.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { freePort } from './nginx.js'

export interface RedisServer {
  url: string
  port: number
  dir: string
  pid(): number
  /** SIGKILL, as a crash: no shutdown save, no goodbye to clients. */
  kill9(): Promise<void>
  /** Starts it again on the same port and dir. */
  restart(): Promise<void>
  stop(): Promise<void>
  log(): string
}

export interface RedisServerOptions {
  /** `appendonly yes` with `appendfsync always`: every write on disk before the reply. Default false (no persistence). */
  aof?: boolean
}

/** The redis-server binary: `$REDIS_SERVER`, else the first on PATH or in the sbin/bin directories. */
function findRedisServer(): string {
  if (process.env['REDIS_SERVER']) return process.env['REDIS_SERVER']
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/bin', '/usr/bin', '/usr/sbin']
  for (const dir of dirs) {
    if (dir === '') continue
    const candidate = join(dir, 'redis-server')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  throw new Error(
    'Cannot find redis-server: install it (scripts/bootstrap.sh does: apt-get install redis-server) or set REDIS_SERVER',
  )
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) {
        socket.destroy()
        // -LOADING while it replays the AOF: not ready yet.
        resolve(reply.startsWith('+PONG'))
      }
    })
    socket.once('error', () => resolve(false))
  })
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = findRedisServer()
  const dir = await mkdtemp(join(tmpdir(), 'sluice-redis-'))
  const port = await freePort()
  const persistence = options.aof
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--appendonly', 'no', '--save', '']
  let child: ChildProcess | undefined
  let log = ''
  let exited: Promise<void> = Promise.resolve()
  let running = false

  const launch = async (): Promise<void> => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      ...persistence,
      '--protected-mode',
      'no',
      '--daemonize',
      'no',
    ]
    const spawned = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child = spawned
    running = true
    spawned.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()))
    spawned.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
    exited = new Promise((resolve) => spawned.once('exit', () => resolve()))
    void exited.then(() => {
      if (child === spawned) running = false
    })
    const deadline = Date.now() + 10_000
    while (!(await ping(port))) {
      if (!running || Date.now() > deadline) throw new Error(`Cannot start redis-server (${binary}):\n${log}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (!running || child?.pid === undefined) return
    process.kill(child.pid, signal)
    const timer = setTimeout(() => running && child?.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }

  await launch()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    pid: () => child?.pid ?? -1,
    kill9: () => kill('SIGKILL'),
    restart: launch,
    async stop() {
      await kill('SIGTERM')
      await rm(dir, { recursive: true, force: true })
    },
    log: () => log,
  }
}

/**
 * What the real servers the tests start (nginx.ts, redis.ts, postgres.ts) have in common: the binary
 * found at run time, a temp dir, a free loopback port, the process spawned in the foreground with
 * its output kept as a log, a bounded wait until it is ready, and a stop by pid.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

/**
 * An executable: `$<envVar>`, else the first `name` on PATH or in `dirs` (Debian puts nginx and
 * redis-server where a non-root PATH does not look). The error says how to install it.
 */
export function findBinary(name: string, envVar: string, dirs: string[], install: string): string {
  const given = process.env[envVar]
  if (given) return given
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter), ...dirs]) {
    if (dir === '') continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  throw new Error(`Cannot find ${name}: install it (scripts/bootstrap.sh does: ${install}) or set ${envVar}`)
}

/** A new empty dir for one server's files: `$TMPDIR/sluice-<name>-XXXXXX`. */
export function tempDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `sluice-${name}-`))
}

/** A loopback port that was free a moment ago (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Whether something accepts TCP connections on the loopback `port`. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** A server process started by {@link startDaemon}. */
export interface Daemon {
  /** The spawned process's pid. */
  readonly pid: number
  /** What it wrote to stdout and stderr so far. */
  log(): string
  running(): boolean
  /**
   * Sends `signal` to `pid` (default: the spawned process; a server may fork or run behind `runuser`),
   * then SIGKILL if the spawned process has not exited within `graceMs`; resolves once it has.
   */
  stop(signal?: NodeJS.Signals, options?: { pid?: number; graceMs?: number }): Promise<void>
}

export interface DaemonOptions {
  /** For the error message: `Cannot start <what>`. */
  what: string
  command: string
  args: string[]
  /** Polled until true (every 20 ms, up to `timeoutMs`): the server accepts work. */
  ready: () => boolean | Promise<boolean>
  /** Default 10 000. */
  timeoutMs?: number
}

/**
 * Spawns a server in the foreground and waits until `ready()`. If it exits first or the wait runs
 * out, it is killed and the error carries its log.
 */
export async function startDaemon({ what, command, args, ready, timeoutMs = 10_000 }: DaemonOptions): Promise<Daemon> {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  let running = true
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  void exited.then(() => (running = false))
  child.once('error', (error) => {
    log += `${error.message}\n`
    running = false
  })

  const stop: Daemon['stop'] = async (signal = 'SIGTERM', { pid = child.pid, graceMs = 5_000 } = {}) => {
    if (!running || pid === undefined) return
    process.kill(pid, signal)
    const timer = setTimeout(() => running && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }

  const deadline = Date.now() + timeoutMs
  while (!(await ready())) {
    if (!running || Date.now() > deadline) {
      await stop('SIGKILL')
      throw new Error(`Cannot start ${what} (${command}):\n${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return { pid: child.pid!, log: () => log, running: () => running, stop }
}

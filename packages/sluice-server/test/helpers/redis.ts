/**
 * A real Redis for tests: Debian's `redis-server`, run in the foreground as a child process in a
 * temp dir on a free loopback port (daemon.ts), stopped by pid. `kill9()` and `restart()` (same port, same
 * dir: with AOF it reloads what it had) drive the crash tests.
 */
import { rm } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { type Daemon, findBinary, freePort, startDaemon, tempDir } from './daemon.js'

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
  const binary = findBinary(
    'redis-server',
    'REDIS_SERVER',
    ['/usr/local/bin', '/usr/bin', '/usr/sbin'],
    'apt-get install redis-server',
  )
  const dir = await tempDir('redis')
  const port = await freePort()
  const persistence = options.aof
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--appendonly', 'no', '--save', '']
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...persistence]
  let daemon: Daemon | undefined
  let earlierLogs = ''

  const launch = async (): Promise<void> => {
    earlierLogs += daemon?.log() ?? ''
    daemon = undefined
    daemon = await startDaemon({
      what: 'redis-server',
      command: binary,
      args: [...args, '--protected-mode', 'no', '--daemonize', 'no'],
      ready: () => ping(port),
    })
  }

  try {
    await launch()
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    pid: () => daemon?.pid ?? -1,
    kill9: async () => daemon?.stop('SIGKILL'),
    restart: launch,
    async stop() {
      await daemon?.stop('SIGTERM')
      await rm(dir, { recursive: true, force: true })
    },
    log: () => earlierLogs + (daemon?.log() ?? ''),
  }
}

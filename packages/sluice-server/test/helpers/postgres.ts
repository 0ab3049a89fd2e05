/**
 * A real PostgreSQL for tests: Debian's binaries (`/usr/lib/postgresql/<version>/bin`), a cluster
 * made by `initdb` in a temp dir, listening on a free 127.0.0.1 port with its unix socket in that
 * dir (daemon.ts), stopped by pid (fast shutdown) and removed after. initdb and postgres refuse to run as root:
 * as root they run as the `postgres` system user (`runuser`), which owns the temp dir.
 */
import { execFile } from 'node:child_process'
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort, startDaemon, tempDir } from './daemon.js'

export interface Postgres {
  /** `postgres://postgres@127.0.0.1:port/postgres` (trust authentication, loopback only). */
  url: string
  port: number
  /** The postmaster's pid. */
  pid: number
  stop(): Promise<void>
}

/** `$PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin` holding initdb. */
function findPostgresBin(): string {
  if (process.env['PG_BIN']) return process.env['PG_BIN']
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : []
  versions.sort((a, b) => Number(b) - Number(a))
  if (versions[0] === undefined) {
    throw new Error(
      'Cannot find initdb: install postgresql (scripts/bootstrap.sh does: apt-get install postgresql) or set PG_BIN',
    )
  }
  return join(root, versions[0], 'bin')
}

/** Runs as the `postgres` user when we are root (initdb and postgres refuse root), else as ourselves. */
function asDbUser(command: string, args: string[]): [string, string[]] {
  return userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]
}

/** Starts a fresh cluster and waits (bounded) until it accepts connections. */
export async function startPostgres(): Promise<Postgres> {
  const bin = findPostgresBin()
  const dir = await tempDir('pg')
  const data = join(dir, 'data')
  if (userInfo().uid === 0) {
    const { uid, gid } = postgresUser()
    chownSync(dir, uid, gid)
  }
  chmodSync(dir, 0o700)
  const [initdb, initArgs] = asDbUser(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ])
  await promisify(execFile)(initdb, initArgs, { timeout: 60_000 })
  const port = await freePort()
  const [postgres, args] = asDbUser(join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    // A throwaway cluster: durability off makes the 1M-row load seconds, not minutes.
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
  ])
  // The postmaster writes its own pid (first line) to postmaster.pid; runuser may stand between.
  const pidFile = join(data, 'postmaster.pid')
  let pid = 0
  const ready = (): boolean => {
    if (!existsSync(pidFile)) return false
    const lines = readFileSync(pidFile, 'utf8').split('\n')
    pid = Number(lines[0])
    return lines[7]?.trim() === 'ready' // line 8: postmaster status (PostgreSQL ≥ 10)
  }
  try {
    const daemon = await startDaemon({ what: 'postgres', command: postgres, args, ready, timeoutMs: 30_000 })
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      pid,
      async stop() {
        await daemon.stop('SIGINT', { pid, graceMs: 10_000 }) // fast shutdown: open sessions are cut
        await rm(dir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
  if (line === undefined)
    throw new Error('Cannot run postgres as root: no postgres user (the postgresql package creates it)')
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

/**
 * The real processes of `npm run demo:cluster`: Debian's `redis-server` and `nginx`, found at run
 * time (or named by `REDIS_SERVER` / `NGINX`), each run in the foreground as a child process with
 * its files in a temp dir, on loopback ports, stopped by pid.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import { delimiter, join } from 'node:path'

/** A running child process, stopped by its pid. */
export interface Running {
  child: ChildProcess
  /** Resolves when it has exited. */
  exited: Promise<void>
  /** SIGTERM, then SIGKILL if it is still there after 5 s. */
  stop(): Promise<void>
  /** The last of what it wrote (stdout and stderr), for an error message. */
  output(): string
}

/** Output kept per process: enough for an error message, bounded however long the demo runs. */
const KEEP_OUTPUT = 16 * 1024

/** Starts `command`; with `echo`, what it writes is passed on to this process's stdout. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; echo?: boolean } = {},
): Running {
  const { echo, ...spawnOptions } = options
  const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const collect = (chunk: Buffer) => {
    if (echo) process.stdout.write(chunk)
    output = (output + chunk.toString()).slice(-KEEP_OUTPUT)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    // It could not start (no such file, not executable): no 'exit' follows.
    child.once('error', (error) => {
      output += `${error.message}\n`
      resolve()
    })
  })
  const running = () => child.exitCode === null && child.signalCode === null
  return {
    child,
    exited,
    async stop() {
      if (!running() || child.pid === undefined) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
    output: () => output,
  }
}

/**
 * The binary `name`: `$env`, else the first on PATH or in the sbin/bin directories (Debian puts
 * nginx in /usr/sbin, which is not on a non-root PATH). Throws naming the Debian package to install.
 */
export function findBinary(name: string, debianPackage: string, env: string): string {
  const override = process.env[env]
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
  ]
  const candidates = override ? [override] : dirs.filter((dir) => dir !== '').map((dir) => join(dir, name))
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  throw new Error(
    `Cannot find ${name}: install Debian's ${debianPackage} package (sudo apt-get install ${debianPackage}; ` +
      `bash scripts/bootstrap.sh test installs it), or set ${env} to its path`,
  )
}

/** A loopback port that was free a moment ago (bound, read, released). */
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

/** Throws when something already listens on the loopback `port` (it would answer in nginx's place). */
export function checkFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (error) => reject(new Error(`Cannot use port ${port}: ${error.message}`)))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()))
  })
}

/** Whether something accepts connections on the loopback `port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Resolves once `port` accepts connections; throws with `what`'s output if it exits or `timeoutMs` pass. */
export async function untilListening(port: number, what: Running, name: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void what.exited.then(() => (exited = true))
  while (!(await listening(port))) {
    if (exited || Date.now() > deadline) throw new Error(`Cannot start ${name}:\n${what.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** redis-server on `port`, its files in `dir`, no persistence (the demo's history lives as long as it does). */
export async function startRedis(binary: string, port: number, dir: string): Promise<Running> {
  const redis = run(binary, [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
    ...['--appendonly', 'no', '--save', '', '--protected-mode', 'no', '--daemonize', 'no'],
  ])
  await untilListening(port, redis, 'redis-server')
  return redis
}

/**
 * nginx on `port` in front of the API instances (`apiPorts`, round robin) for `/api/`, and of
 * the supervisor (`controlPort`: the page and the cluster-wide controls) for the rest.
 */
export async function startNginx(
  binary: string,
  dir: string,
  ports: { port: number; apiPorts: number[]; controlPort: number },
): Promise<Running> {
  const proxy = [
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_set_header Host $host;',
    'proxy_buffering off;',
    'proxy_read_timeout 1h;',
  ].join('\n      ')
  const config = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream api {
${ports.apiPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 16;
  }
  upstream control {
    server 127.0.0.1:${ports.controlPort};
    keepalive 4;
  }
  server {
    listen 127.0.0.1:${ports.port};
    # The streams and the rest of the API: any instance (a dead one is skipped: connection refused).
    location /api/ {
      proxy_pass http://api;
      proxy_connect_timeout 1s;
      ${proxy}
    }
    # Controls that act on every instance (rate, faults, a real restart) and the count of streams.
    location ~ ^/api/(rate|faults/|connections) {
      proxy_pass http://control;
      ${proxy}
    }
    # The page (Vite).
    location / {
      proxy_pass http://control;
      ${proxy}
    }
  }
}
`
  const conf = join(dir, 'nginx.conf')
  await writeFile(conf, config)
  const nginx = run(binary, ['-p', dir, '-c', conf, '-e', 'stderr'])
  await untilListening(ports.port, nginx, 'nginx')
  return nginx
}

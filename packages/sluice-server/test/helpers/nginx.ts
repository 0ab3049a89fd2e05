/**
 * A real nginx for tests: Debian's binary, resolved at run time, run in the foreground as a child
 * process with a generated config, pid file, logs and temp paths all inside a temp dir, listening
 * on loopback ports picked by binding them first.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

/** One `server {}`: its upstream servers (`host:port`) and extra directives for its `location /`. */
export interface Site {
  name: string
  upstreams: string[]
  directives?: string[]
  /** Terminate TLS with HTTP/2 (`listen ... ssl http2`, nginx 1.22 syntax) with this certificate (PEM files). */
  tls?: { certFile: string; keyFile: string }
}

export interface Nginx {
  /** `http://127.0.0.1:port` (`https://` for a `tls` site) of each site, by name. */
  urls: Record<string, string>
  pid: number
  /** What nginx wrote to stderr so far (its error log). */
  log(): string
  stop(): Promise<void>
}

/**
 * The nginx binary: `$NGINX`, else the first `nginx` on PATH or in the sbin directories, which
 * Debian does not put on a non-root PATH.
 */
function findNginx(): string {
  if (process.env['NGINX']) return process.env['NGINX']
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']
  for (const dir of dirs) {
    if (dir === '') continue
    const candidate = join(dir, 'nginx')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  throw new Error('Cannot find nginx: install it (scripts/bootstrap.sh does: apt-get install nginx) or set NGINX')
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

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

function configOf(dir: string, sites: Array<Site & { port: number }>): string {
  const blocks = sites.map(
    (site) => `
  upstream ${site.name} {
${site.upstreams.map((u) => `    server ${u} max_fails=0;`).join('\n')}
    keepalive 8;
  }
  server {
    listen 127.0.0.1:${site.port}${site.tls ? ' ssl http2' : ''};
${site.tls ? `    ssl_certificate ${site.tls.certFile};\n    ssl_certificate_key ${site.tls.keyFile};\n` : ''}    location / {
      proxy_pass http://${site.name};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
${(site.directives ?? []).map((d) => `      ${d}`).join('\n')}
    }
  }`,
  )
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${blocks.join('\n')}
}
`
}

/** Starts nginx with one `server {}` per site and waits until every site accepts connections. */
export async function startNginx(sites: Site[]): Promise<Nginx> {
  const binary = findNginx()
  const dir = await mkdtemp(join(tmpdir(), 'sluice-nginx-'))
  const placed = []
  for (const site of sites) placed.push({ ...site, port: await freePort() })
  const conf = join(dir, 'nginx.conf')
  await writeFile(conf, configOf(dir, placed))
  const child: ChildProcess = spawn(binary, ['-p', dir, '-c', conf, '-e', 'stderr'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let running = true
  void exited.then(() => (running = false))

  const stop = async (): Promise<void> => {
    if (running && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM') // fast shutdown: open streams are cut, as on a real restart
      const timer = setTimeout(() => child.pid !== undefined && running && process.kill(child.pid, 'SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
    await rm(dir, { recursive: true, force: true })
  }

  // Bounded wait for the listeners: nginx has no readiness signal in the foreground.
  const deadline = Date.now() + 10_000
  for (const site of placed) {
    while (!(await canConnect(site.port))) {
      if (!running || Date.now() > deadline) {
        await stop()
        throw new Error(`Cannot start nginx (${binary}):\n${log}`)
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  return {
    urls: Object.fromEntries(placed.map((s) => [s.name, `${s.tls ? 'https' : 'http'}://127.0.0.1:${s.port}`])),
    pid: child.pid!,
    log: () => log,
    stop,
  }
}

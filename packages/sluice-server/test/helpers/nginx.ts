/**
 * A real nginx for tests: Debian's binary, resolved at run time, run in the foreground as a child
 * process (daemon.ts) with a generated config, pid file, logs and temp paths all inside a temp dir,
 * listening on loopback ports picked by binding them first.
 */
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { canConnect, findBinary, freePort, startDaemon, tempDir } from './daemon.js'

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
  const binary = findBinary('nginx', 'NGINX', ['/usr/local/sbin', '/usr/sbin', '/sbin'], 'apt-get install nginx')
  const dir = await tempDir('nginx')
  const placed: Array<Site & { port: number }> = []
  for (const site of sites) placed.push({ ...site, port: await freePort() })
  const conf = join(dir, 'nginx.conf')
  await writeFile(conf, configOf(dir, placed))
  try {
    // nginx has no readiness signal in the foreground: ready once every site accepts connections.
    const daemon = await startDaemon({
      what: 'nginx',
      command: binary,
      args: ['-p', dir, '-c', conf, '-e', 'stderr'],
      ready: async () => (await Promise.all(placed.map((site) => canConnect(site.port)))).every(Boolean),
    })
    return {
      urls: Object.fromEntries(placed.map((s) => [s.name, `${s.tls ? 'https' : 'http'}://127.0.0.1:${s.port}`])),
      pid: daemon.pid,
      log: daemon.log,
      async stop() {
        await daemon.stop('SIGTERM') // fast shutdown: open streams are cut, as on a real restart
        await rm(dir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

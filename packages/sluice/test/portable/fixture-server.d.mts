/**
 * Starts the loopback fixture server (see fixture-server.mjs) on an ephemeral port of 127.0.0.1;
 * with `tls`, over HTTPS with HTTP/2 (and HTTP/1.1 by ALPN).
 */
export function startFixtureServer(options?: {
  tls?: { key: string; cert: string }
}): Promise<{ url: string; close: () => Promise<void> }>

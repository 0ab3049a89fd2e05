/** Starts the loopback fixture server (see fixture-server.mjs) on an ephemeral port of 127.0.0.1. */
export function startFixtureServer(): Promise<{ url: string; close: () => Promise<void> }>

// Every suite `npm test` runs, in order. Each writes a JSON result ({ numPassedTests,
// numFailedTests }, the shape of vitest's json reporter) to `results`, or, for `kind: 'check'`,
// counts as one test that passes when the command exits 0.
//
// Add a suite here when an issue adds a runner; scripts/test.mjs totals them all.
//
// `quick` marks the suites of `npm run test:quick` (node scripts/test.mjs --quick): Node only, no
// browser, nginx, Deno, Bun, build or e2e, seconds each. `true` runs the suite as it is; an array
// runs it with those arguments appended (to leave out its slow or system-dependent files).
// `quickArgs` replaces its arguments in quick mode, and `quickEnv` is added to its environment.
export const suites = [
  {
    name: 'typecheck',
    kind: 'check',
    command: 'pnpm',
    args: ['-r', '--if-present', 'typecheck'],
    quick: true,
    // Quick: sluice and sluice-server, src and tests (typecheck:quick). npm test adds src without Node
    // types (sluice's build config, sluice-server's web config), the demo and e2e.
    quickArgs: ['-r', '--if-present', 'typecheck:quick'],
  },
  // Biome (biome.json): formatting, import order and the linter on every file; `npm run format` fixes most.
  { name: 'lint: biome', kind: 'check', command: 'pnpm', args: ['exec', 'biome', 'ci', '.'], quick: true },
  // knip (knip.json): no unused file, export or dependency in any workspace package.
  { name: 'lint: knip', kind: 'check', command: 'pnpm', args: ['exec', 'knip'], quick: true },
  // Every ```ts block of README.md, packages/*/README.md and docs/*.md, and every @example in
  // packages/*/src, typechecked against the packages' src/ (no build needed), one test per block;
  // markers and preludes: scripts/check-docs.mjs.
  { name: 'docs: snippets', kind: 'results', command: 'node', args: ['scripts/check-docs.mjs'], quick: true },
  { name: 'build', kind: 'check', command: 'pnpm', args: ['run', 'build'] },
  {
    name: 'node: sluice',
    kind: 'vitest',
    cwd: 'packages/sluice',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run'],
    // The typecheck suite already compiles the *.test-d.ts files (tsconfig.test.json). Worker threads
    // start faster than the default child processes: about a fifth less CPU for the same tests.
    quick: ['--typecheck.enabled=false', '--pool=threads'],
    // Each fast-check property at most 25 cases (propertyRuns in test/support/arbitraries.ts); npm test runs them all.
    quickEnv: { SLUICE_PROPERTY_RUNS: '25' },
  },
  // Issue 8: fuzzing, hostile servers, soak and leaks (packages/sluice/test/hardening/), bounded for CI.
  // scripts/reliability.mjs runs the same files (and --long, longer) to write RELIABILITY.md.
  {
    name: 'node: sluice hardening',
    kind: 'vitest',
    cwd: 'packages/sluice',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run', '-c', 'vitest.hardening.config.ts'],
  },
  // ndjson()/sse() under hundreds of random faults (chaos server) and a restarted server process
  // (packages/sluice/test/resilience/); scripts/reliability.mjs runs the same files for RELIABILITY.md.
  {
    name: 'node: sluice resilience',
    kind: 'vitest',
    cwd: 'packages/sluice',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run', '-c', 'vitest.resilience.config.ts'],
  },
  // Issue 4: sluice-server unit tests, node:http adapter over loopback, and a real nginx in front.
  {
    name: 'node: sluice-server',
    kind: 'vitest',
    cwd: 'packages/sluice-server',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run'],
    // nginx.test.ts needs nginx; slow-client.test.ts (200 concurrent streams, clients that read
    // slowly or never, write timeouts: about 8 s) is a load test, which npm test runs.
    quick: ['--exclude', 'test/nginx.test.ts', '--exclude', 'test/slow-client.test.ts', '--pool=threads'],
  },
  // Issue 16: the whole stack with real parts: nginx terminating TLS with http2, Chromium opening 12
  // streams to one origin (HTTP/1.1 vs HTTP/2), a Postgres cursor of 1,000,000 rows streamed as NDJSON.
  {
    name: 'node: sluice-server stack',
    kind: 'vitest',
    cwd: 'packages/sluice-server',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run', '-c', 'vitest.stack.config.ts'],
  },
  // Issue 12: feeds. The Feed contract on memoryFeed and on a real redis-server (Debian's, temp dir,
  // free loopback port), feedResponse over loopback, three instances behind a real nginx with kill -9
  // of an instance and of Redis (AOF always / no persistence). About a minute.
  {
    name: 'node: sluice-server feeds',
    kind: 'vitest',
    cwd: 'packages/sluice-server',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run', '-c', 'vitest.feeds.config.ts'],
  },
  // Issue 5: the runtime-neutral suite (packages/sluice/test/portable/) in each runtime, each against
  // a loopback fixture server the runner starts in Node. Deno and Bun run against the built dist/.
  {
    name: 'node: portable',
    kind: 'vitest',
    cwd: 'packages/sluice',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run', '-c', 'vitest.portable.config.ts', '--project', 'node'],
  },
  // Issue 16: the resume scenarios over HTTP/2: undici's fetch (Agent allowH2) through the `fetch`
  // option, against the fixture server served by sluice-server over TLS.
  {
    name: 'node-h2: portable resume',
    kind: 'vitest',
    cwd: 'packages/sluice',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run', '-c', 'vitest.portable.config.ts', '--project', 'node-h2'],
  },
  {
    name: 'chromium: portable',
    kind: 'vitest',
    cwd: 'packages/sluice',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run', '-c', 'vitest.portable.config.ts', '--project', 'chromium'],
  },
  // Issue 15: the live UI layer in Debian's Chromium: useStream renders once per frame at 1,000 records/s
  // (vitest browser mode), and 8 tabs of one context share 1 connection through leader kills (playwright).
  {
    name: 'chromium: live ui',
    kind: 'vitest',
    cwd: 'packages/sluice',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run', '-c', 'vitest.live-ui.config.ts'],
  },
  { name: 'deno: portable', kind: 'results', command: 'node', args: ['scripts/run-portable.mjs', 'deno'] },
  // Issue 16: Deno's fetch against the fixture server over TLS negotiates HTTP/2: the resume
  // scenarios over h2, plus a check that h2 was what it spoke. (Bun 1.4's fetch speaks HTTP/1.1
  // only, and over TLS re-sends a request by itself when the server cuts the connection mid-body:
  // `node scripts/run-portable.mjs bun h2` shows it; not a suite until that is settled.)
  {
    name: 'deno-h2: portable resume',
    kind: 'results',
    command: 'node',
    args: ['scripts/run-portable.mjs', 'deno', 'h2'],
  },
  { name: 'bun: portable', kind: 'results', command: 'node', args: ['scripts/run-portable.mjs', 'bun'] },
  // Issue 5: publint + attw on the packed tarball, ESM/manifest shape, no Node built-ins, size budget, JSR dry run.
  {
    name: 'package: sluice',
    kind: 'results',
    cwd: 'packages/sluice',
    command: 'node',
    args: ['scripts/check-package.mjs'],
  },
  // Issue 7: every benchmark contestant once on small corpora, so `pnpm bench` never rots (no thresholds).
  { name: 'bench: quick', kind: 'check', cwd: 'bench', command: 'pnpm', args: ['run', 'bench:quick'] },
  // Issue 6: the demo started as the README starts it (npm run demo), driven in Debian's Chromium; and
  // issue 12's cluster demo (demo/cluster.ts: redis-server, three API instances, nginx), an instance killed.
  { name: 'e2e: demo in chromium', kind: 'results', command: 'node', args: ['e2e/run.mjs'] },
]

// Runs the portable suite (packages/sluice/test/portable/) in Deno or Bun:
//   node scripts/run-portable.mjs deno|bun
// Builds the client (the suite imports `sluice`, which resolves to dist/ through package.json
// `exports`, as npm users get it), starts the loopback fixture server here in Node (sluice-server
// from its source, through tsx), runs the runtime's own test runner (binaries from the npm
// packages `deno` and `bun`) with the server's URL in SLUICE_FIXTURE_URL, then prints the count of tests run and writes
// { numPassedTests, numFailedTests } to $SLUICE_RESULTS. Exits non-zero when any test failed, when
// no test ran, or when the runtime crashed before reporting.
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { tsImport } from 'tsx/esm/api'

const runtimes = {
  deno: (junit) => [
    'test',
    '--no-prompt',
    // Only what the suite needs: the fixture URL, and loopback for fetch and Deno.serve.
    '--allow-env=SLUICE_FIXTURE_URL',
    '--allow-net=127.0.0.1',
    `--junit-path=${junit}`,
    'test/portable/entry.deno.ts',
  ],
  bun: (junit) => ['test', '--reporter=junit', `--reporter-outfile=${junit}`, './test/portable/entry.bun.ts'],
}

const name = process.argv[2]
if (!(name in runtimes)) {
  console.error(`usage: node scripts/run-portable.mjs ${Object.keys(runtimes).join('|')}`)
  process.exit(2)
}

const pkg = resolve(import.meta.dirname, '..', 'packages', 'sluice')
const binary = join(pkg, 'node_modules', '.bin', name)
if (!existsSync(binary)) {
  console.error(`${name}: ${binary} is missing; run the install (pnpm install) first`)
  process.exit(1)
}
const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).split('\n')[0].trim()
console.log(`portable suite on ${version.startsWith(name) ? version : `${name} ${version}`}`)

// The suite runs against dist/: build it so it is never stale.
execFileSync(process.execPath, [join(pkg, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
  cwd: pkg,
  stdio: 'inherit',
})

// The fixture server imports sluice-server from its TypeScript source (see fixture-server.mjs):
// load it through tsx, scoped to this import. Loaded after the build: its `sluice/protocol`
// resolves to the dist/ just built.
const { startFixtureServer } = await tsImport('../packages/sluice/test/portable/fixture-server.mjs', import.meta.url)
const work = mkdtempSync(join(tmpdir(), `sluice-${name}-`))
const junit = join(work, 'junit.xml')
const server = await startFixtureServer()
let code
try {
  code = await run(binary, runtimes[name](junit), {
    cwd: pkg,
    env: { ...process.env, SLUICE_FIXTURE_URL: server.url, NO_COLOR: process.env.NO_COLOR ?? '' },
  })
} finally {
  await server.close()
}

let passed = 0
let failed = 0
if (existsSync(junit)) {
  const counts = countsOf(readFileSync(junit, 'utf8'))
  passed = counts.tests - counts.failures - counts.errors - counts.skipped
  failed = counts.failures + counts.errors + counts.skipped // a skipped portable test is a failure: none may be skipped
}
if (code !== 0 && failed === 0) failed = 1 // the runtime failed without saying which test: count it, never hide it
if (passed + failed === 0) failed = 1 // no test ran at all
rmSync(work, { recursive: true, force: true })

console.log(`${name}: ${passed + failed} tests run, ${passed} passed, ${failed} failed`)
if (process.env.SLUICE_RESULTS) {
  writeFileSync(process.env.SLUICE_RESULTS, JSON.stringify({ numPassedTests: passed, numFailedTests: failed }))
}
process.exit(failed > 0 ? 1 : 0)

/** The totals on the root element of a JUnit report (both runtimes write `<testsuites tests= failures=>`). */
function countsOf(xml) {
  const root = /<testsuites\b([^>]*)>/.exec(xml)?.[1] ?? ''
  const attribute = (key) => Number(new RegExp(`\\b${key}="(\\d+)"`).exec(root)?.[1] ?? 0)
  return { tests: attribute('tests'), failures: attribute('failures'), errors: attribute('errors'), skipped: attribute('skipped') }
}

/** Runs the runtime, killing it (by its pid) if it outlives the suite's time budget. */
function run(command, args, options, budgetMs = 180_000) {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { ...options, stdio: 'inherit' })
    const timer = setTimeout(() => {
      console.error(`${name}: still running after ${budgetMs / 1000} s, stopping it`)
      child.kill('SIGKILL')
    }, budgetMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      console.error(`cannot start ${command}: ${error.message}`)
      resolveRun(127)
    })
    child.on('exit', (exitCode, signal) => {
      clearTimeout(timer)
      resolveRun(exitCode ?? (signal ? 1 : 0))
    })
  })
}

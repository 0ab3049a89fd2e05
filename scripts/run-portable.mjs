// Runs the portable suite (packages/sluice/test/portable/) in Deno or Bun:
//   node scripts/run-portable.mjs deno|bun [h2]
// With `h2`, only its resume scenarios, against the fixture server over TLS (sluice-server's
// `serve` with `tls`: HTTP/2 by ALPN, HTTP/1.1 for clients without h2), trusting a certificate made
// by openssl for the run; prints which HTTP versions the runtime's fetch negotiated. Deno's must
// be HTTP/2 (counted as one more test); Bun's fetch speaks HTTP/1.1 only (printed, not failed).
// Builds the client (the suite imports `sluice`, which resolves to dist/ through package.json
// `exports`, as npm users get it), starts the loopback fixture server here in Node (sluice-server
// from its source, through tsx), runs the runtime's own test runner (binaries from the npm
// packages `deno` and `bun`) with the server's URL in SLUICE_FIXTURE_URL, then prints the count of tests run and writes
// { numPassedTests, numFailedTests } to $SLUICE_RESULTS. Exits non-zero when any test failed, when
// no test ran, or when the runtime crashed before reporting.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { get as httpsGet } from 'node:https'
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
const h2 = process.argv[3] === 'h2'
if (!(name in runtimes) || (process.argv[3] !== undefined && !h2)) {
  console.error(`usage: node scripts/run-portable.mjs ${Object.keys(runtimes).join('|')} [h2]`)
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
execFileSync(
  process.execPath,
  [join(pkg, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: pkg,
    stdio: 'inherit',
  },
)

// The fixture server imports sluice-server from its TypeScript source (see fixture-server.mjs):
// load it through tsx, scoped to this import. Loaded after the build: its `sluice/protocol`
// resolves to the dist/ just built.
const { startFixtureServer } = await tsImport('../packages/sluice/test/portable/fixture-server.mjs', import.meta.url)
const work = mkdtempSync(join(tmpdir(), `sluice-${name}-`))
const junit = join(work, 'junit.xml')
const certificate = h2
  ? await (await tsImport('../packages/sluice-server/test/helpers/certificate.ts', import.meta.url)).makeCertificate()
  : undefined
const server = await startFixtureServer(certificate ? { tls: { key: certificate.key, cert: certificate.cert } } : {})
let code
let versions = []
try {
  const args = runtimes[name](junit)
  const env = { ...process.env, SLUICE_FIXTURE_URL: server.url, NO_COLOR: process.env.NO_COLOR ?? '' }
  if (certificate) {
    // Trust the run's certificate and keep only the resume scenarios: `deno test --cert --filter`,
    // `bun test --test-name-pattern` (Bun reads extra CAs from NODE_EXTRA_CA_CERTS).
    if (name === 'deno') args.splice(1, 0, `--cert=${certificate.certFile}`, '--filter=resume:')
    else args.splice(1, 0, '--test-name-pattern=resume:')
    env.NODE_EXTRA_CA_CERTS = certificate.certFile
  }
  code = await run(binary, args, { cwd: pkg, env })
  if (certificate) versions = await protocolsServed(server.url, certificate.cert)
} finally {
  await server.close()
  await certificate?.remove()
}

let passed = 0
let failed = 0
if (existsSync(junit) && h2) {
  // Filtered-out tests still appear in both runtimes' reports (Deno as passed, Bun as skipped): count the resume scenarios only.
  const counts = resumeCountsOf(readFileSync(junit, 'utf8'))
  passed = counts.passed
  failed = counts.failed
} else if (existsSync(junit)) {
  const counts = countsOf(readFileSync(junit, 'utf8'))
  passed = counts.tests - counts.failures - counts.errors - counts.skipped
  failed = counts.failures + counts.errors + counts.skipped // a skipped portable test is a failure: none may be skipped
}
if (h2) {
  console.log(
    `${name} over TLS: its fetch negotiated HTTP ${versions.join(', ') || '(nothing served)'} with the fixture server`,
  )
  if (name === 'deno') {
    if (versions.length === 1 && versions[0] === '2.0') passed++
    else failed++
  }
}
if (code !== 0 && failed === 0) failed = 1 // the runtime failed without saying which test: count it, never hide it
if (passed + failed === 0) failed = 1 // no test ran at all
rmSync(work, { recursive: true, force: true })

console.log(`${name}: ${passed + failed} tests run, ${passed} passed, ${failed} failed`)
if (process.env.SLUICE_RESULTS) {
  writeFileSync(process.env.SLUICE_RESULTS, JSON.stringify({ numPassedTests: passed, numFailedTests: failed }))
}
process.exit(failed > 0 ? 1 : 0)

/** The HTTP versions the fixture server has served (its /protocols route), asked over HTTPS from Node. */
function protocolsServed(url, ca) {
  return new Promise((resolveGet, reject) => {
    httpsGet(new URL('protocols', url), { ca }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolveGet(JSON.parse(body)))
    }).on('error', reject)
  })
}

/** Passed and failed `resume:` test cases of a JUnit report (a case failed when it holds a failure, error or skip). */
function resumeCountsOf(xml) {
  let passed = 0
  let failed = 0
  for (const [, body] of xml.matchAll(/<testcase\b[^>]*\bname="resume:[^"]*"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    if (/<(failure|error|skipped)\b/.test(body ?? '')) failed++
    else passed++
  }
  return { passed, failed }
}

/** The totals on the root element of a JUnit report (both runtimes write `<testsuites tests= failures=>`). */
function countsOf(xml) {
  const root = /<testsuites\b([^>]*)>/.exec(xml)?.[1] ?? ''
  const attribute = (key) => Number(new RegExp(`\\b${key}="(\\d+)"`).exec(root)?.[1] ?? 0)
  return {
    tests: attribute('tests'),
    failures: attribute('failures'),
    errors: attribute('errors'),
    skipped: attribute('skipped'),
  }
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

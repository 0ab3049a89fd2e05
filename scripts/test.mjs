// Runs every suite in scripts/suites.mjs and ends with one line totalling them all:
// `N passed, N failed`. Exits non-zero when any test failed or any suite could not report.
//
//   node scripts/test.mjs              # every suite (npm test)
//   node scripts/test.mjs --quick      # the suites marked `quick` (npm run test:quick): Node only, under a minute
//   node scripts/test.mjs <name>...    # the suites whose names contain one of <name>
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { suites } from './suites.mjs'

const root = resolve(import.meta.dirname, '..')
// `pnpm` is the copy bootstrap.sh pinned in .tools/, run with this same node.
const pnpm = join(root, '.tools', 'node_modules', 'pnpm', 'bin', 'pnpm.cjs')
const resultsDir = join(root, '.artifacts', 'results')
rmSync(resultsDir, { recursive: true, force: true })
mkdirSync(resultsDir, { recursive: true })

const quick = process.argv.includes('--quick')
const only = process.argv.slice(2).filter((arg) => arg !== '--quick')
const selected = suites.filter(
  (suite) => (!quick || suite.quick) && (only.length === 0 || only.some((name) => suite.name.includes(name))),
)
// Quick mode runs the checks (typecheck, lint, docs: one process each, mostly one core) side by side,
// each one's output printed when it ends, then the vitest suites one after another (they use every core).
const rows = new Map()
if (quick) {
  await Promise.all(selected.filter((suite) => suite.kind !== 'vitest').map((suite) => runSuite(suite, true)))
}
for (const suite of selected) if (!rows.has(suite)) await runSuite(suite, false)

async function runSuite(suite, capture) {
  const slug = suite.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()
  const results = join(resultsDir, `${slug}.json`)
  const args =
    quick && suite.quickArgs
      ? [...suite.quickArgs]
      : [...suite.args, ...(quick && Array.isArray(suite.quick) ? suite.quick : [])]
  if (suite.kind === 'vitest') {
    args.push('--reporter=default', '--reporter=json', `--outputFile.json=${results}`)
  }
  if (!capture) console.log(`\n=== ${suite.name}`)
  const started = Date.now()
  const { code, output } = await run(suite.command, args, capture, {
    cwd: join(root, suite.cwd ?? '.'),
    // Suites (and the package scripts they run) call `pnpm`: the pinned copy in .tools/bin comes first.
    env: {
      ...process.env,
      PATH: `${join(root, '.tools', 'bin')}:${process.env.PATH}`,
      SLUICE_RESULTS: results,
      ...(suite.env ?? {}),
      ...(quick ? (suite.quickEnv ?? {}) : {}),
    },
  })
  if (capture) process.stdout.write(`\n=== ${suite.name}\n${output}`)
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  let passed = 0
  let failed = 0
  if (suite.kind === 'check') {
    if (code === 0) passed = 1
    else failed = 1
  } else if (existsSync(results)) {
    const report = JSON.parse(readFileSync(results, 'utf8'))
    passed = report.numPassedTests ?? 0
    failed = (report.numFailedTests ?? 0) + (code !== 0 && !report.numFailedTests ? 1 : 0)
  } else {
    failed = 1 // the suite crashed before reporting: count it, never hide it
  }
  rows.set(suite, { name: suite.name, passed, failed, seconds })
}

console.log('\n=== summary')
for (const row of selected.map((suite) => rows.get(suite))) {
  console.log(
    `${row.failed ? 'FAIL' : 'ok  '} ${row.name.padEnd(28)} ${row.passed} passed, ${row.failed} failed (${row.seconds}s)`,
  )
}
const passed = [...rows.values()].reduce((sum, row) => sum + row.passed, 0)
const failed = [...rows.values()].reduce((sum, row) => sum + row.failed, 0)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 || rows.size === 0 ? 1 : 0)

/** Runs a command; its output goes to the terminal, or with `capture` into `output` (stdout and stderr interleaved). */
function run(command, args, capture, options) {
  if (command === 'pnpm') [command, args] = [process.execPath, [pnpm, ...args]]
  return new Promise((resolveRun) => {
    let output = ''
    const child = spawn(command, args, { ...options, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' })
    child.stdout?.on('data', (chunk) => (output += chunk))
    child.stderr?.on('data', (chunk) => (output += chunk))
    child.on('error', (error) => {
      output += `cannot start ${command}: ${error.message}\n`
      if (!capture) console.error(`cannot start ${command}: ${error.message}`)
      resolveRun({ code: 127, output })
    })
    // 'close', not 'exit': the captured output is complete only once the pipes have closed.
    child.on('close', (code, signal) => resolveRun({ code: code ?? (signal ? 1 : 0), output }))
  })
}

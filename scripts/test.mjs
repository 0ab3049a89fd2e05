// Runs every suite in scripts/suites.mjs and ends with one line totalling them all:
// `N passed, N failed`. Exits non-zero when any test failed or any suite could not report.
//
//   node scripts/test.mjs              # every suite (npm test)
//   node scripts/test.mjs --quick      # the suites marked `quick` (npm run test:quick): seconds, Node only
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
const rows = []
for (const suite of suites) {
  if (quick && !suite.quick) continue
  if (only.length > 0 && !only.some((name) => suite.name.includes(name))) continue
  const slug = suite.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()
  const results = join(resultsDir, `${slug}.json`)
  const args = [...suite.args, ...(quick && Array.isArray(suite.quick) ? suite.quick : [])]
  if (suite.kind === 'vitest') {
    args.push('--reporter=default', '--reporter=json', `--outputFile.json=${results}`)
  }
  console.log(`\n=== ${suite.name}`)
  const started = Date.now()
  const code = await run(suite.command, args, {
    cwd: join(root, suite.cwd ?? '.'),
    // Suites (and the package scripts they run) call `pnpm`: the pinned copy in .tools/bin comes first.
    env: {
      ...process.env,
      PATH: `${join(root, '.tools', 'bin')}:${process.env.PATH}`,
      SLUICE_RESULTS: results,
      ...(suite.env ?? {}),
    },
  })
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
  rows.push({ name: suite.name, passed, failed, seconds })
}

console.log('\n=== summary')
for (const row of rows) {
  console.log(
    `${row.failed ? 'FAIL' : 'ok  '} ${row.name.padEnd(28)} ${row.passed} passed, ${row.failed} failed (${row.seconds}s)`,
  )
}
const passed = rows.reduce((sum, row) => sum + row.passed, 0)
const failed = rows.reduce((sum, row) => sum + row.failed, 0)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 || rows.length === 0 ? 1 : 0)

function run(command, args, options) {
  if (command === 'pnpm') [command, args] = [process.execPath, [pnpm, ...args]]
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { ...options, stdio: 'inherit' })
    child.on('error', (error) => {
      console.error(`cannot start ${command}: ${error.message}`)
      resolveRun(127)
    })
    child.on('exit', (code, signal) => resolveRun(code ?? (signal ? 1 : 0)))
  })
}

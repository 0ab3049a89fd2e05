// Every suite `npm test` runs, in order. Each writes a JSON result ({ numPassedTests,
// numFailedTests }, the shape of vitest's json reporter) to `results`, or, for `kind: 'check'`,
// counts as one test that passes when the command exits 0.
//
// Add a suite here when an issue adds a runner; scripts/test.mjs totals them all.
export const suites = [
  { name: 'typecheck', kind: 'check', command: 'pnpm', args: ['-r', '--if-present', 'typecheck'] },
  { name: 'build', kind: 'check', command: 'pnpm', args: ['run', 'build'] },
  {
    name: 'node: sluice',
    kind: 'vitest',
    cwd: 'packages/sluice',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run'],
  },
  // Issue 7: every benchmark contestant once on small corpora, so `pnpm bench` never rots (no thresholds).
  { name: 'bench: quick', kind: 'check', cwd: 'bench', command: 'pnpm', args: ['run', 'bench:quick'] },
]

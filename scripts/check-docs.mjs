// Typechecks every ```ts block of the documentation (README.md, packages/*/README.md, docs/*.md)
// and of every `@example` in the packages' src/ (a ```ts fence inside the doc comment), against the
// workspace's sources, so a snippet users copy, or read in their editor, compiles. One test per block:
// writes `{ numPassedTests, numFailedTests }` to $SLUICE_RESULTS for scripts/test.mjs.
//
// Markers, HTML comments right before a block (only blank lines or other markers in between):
//   <!-- prelude: declare const response: Response -->
//       TypeScript put before the block (may span lines); declares the free names a snippet uses.
//       Errors inside a prelude are reported too.
//   <!-- docs-check: skip (why) -->
//       the block is not checked (counted neither passed nor failed); the reason is required.
//
// Each block is its own module: `.artifacts/docs/<doc>-L<line>.ts` (an `@example` of
// packages/<pkg>/src: `packages/<pkg>/.artifacts/examples/`, so it sees that package's dependencies),
// with a tsconfig in .artifacts/docs (`node_modules/.bin/tsc -p .artifacts/docs` reproduces a run).
// Every export of the packages (and Deno's `npm:` spellings) resolves to its src/ (the `sluice-source`
// condition of each package.json); `zod` to the workspace's. Strict settings: tsconfig.base.json plus
// exactOptionalPropertyTypes.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative, resolve, sep } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const ts = createRequire(join(root, 'package.json'))('typescript')
const outDir = join(root, '.artifacts', 'docs')

const docs = [
  'README.md',
  ...dir('packages').flatMap((p) =>
    existsSync(join(root, 'packages', p, 'README.md')) ? [`packages/${p}/README.md`] : [],
  ),
  ...dir('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]

function dir(path) {
  return existsSync(join(root, path)) ? readdirSync(join(root, path)).sort() : []
}

/** The .ts files under packages/<pkg>/src, recursively (no .d.ts). */
function sourcesOf(pkg) {
  const base = join(root, 'packages', pkg, 'src')
  if (!existsSync(base)) return []
  return readdirSync(base, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => `packages/${pkg}/src/${f.split(sep).join('/')}`)
}

/** Every `@example` of a source file: the ```ts fence after the tag, with the ` * ` margin removed. */
function examplesOf(file) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const blocks = []
  const problems = []
  const margin = /^\s*\* ?/
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\b/.test(lines[i])) continue
    let f = i + 1
    while (f < lines.length && /^\s*\*\s*$/.test(lines[f])) f++
    const fence = /^\s*\*\s*```\s*([\w+-]*)\s*$/.exec(lines[f] ?? '')
    if (!fence || !['ts', 'typescript'].includes(fence[1].toLowerCase())) {
      problems.push(`${file}:${i + 1}: an @example without a \`\`\`ts block right after it`)
      continue
    }
    const body = []
    let j = f + 1
    for (; j < lines.length && !/^\s*\*\s*```\s*$/.test(lines[j]); j++) body.push(lines[j].replace(margin, ''))
    if (j === lines.length) problems.push(`${file}:${f + 1}: an @example block never closed`)
    else
      blocks.push({ file, line: f + 2, code: body.join('\n'), markers: [], dir: file.split('/').slice(0, 2).join('/') })
    i = j
  }
  return { blocks, problems }
}

/** Every fenced block of `file`, with the markers right before it. */
function blocksOf(file) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const blocks = []
  const problems = []
  let markers = [] // markers seen since the last non-blank, non-marker line
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const comment = /^\s*<!--\s*(prelude:|docs-check:)/.exec(line)
    if (comment) {
      let text = line
      const start = i
      while (!text.includes('-->') && i + 1 < lines.length) text += `\n${lines[++i]}`
      const body = text.replace(/^\s*<!--\s*/, '').replace(/\s*-->\s*$/, '')
      if (body.startsWith('prelude:')) markers.push({ prelude: body.slice('prelude:'.length).trim() })
      else {
        const skip = /^docs-check:\s*skip\s*\((.+)\)$/s.exec(body)
        if (skip) markers.push({ skip: skip[1].trim() })
        else problems.push(`${file}:${start + 1}: unknown marker (expected "docs-check: skip (reason)"): ${body}`)
      }
      continue
    }
    const fence = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(line)
    if (fence) {
      const [, indent, marks, lang] = fence
      const body = []
      let j = i + 1
      for (; j < lines.length; j++) {
        const t = lines[j].trim()
        if (t.length >= marks.length && t === marks[0].repeat(t.length)) break
        body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j])
      }
      const code = ['ts', 'typescript', 'mts'].includes(lang.toLowerCase())
      if (code) blocks.push({ file, line: i + 2, code: body.join('\n'), markers })
      else if (markers.length > 0)
        problems.push(`${file}:${i + 1}: a marker before a \`\`\`${lang} block, which is not checked`)
      markers = []
      i = j
      continue
    }
    if (line.trim() !== '') {
      if (markers.length > 0) problems.push(`${file}:${i}: a marker not followed by a \`\`\`ts block`)
      markers = []
    }
  }
  return { blocks, problems }
}

const packages = dir('packages').filter((p) => existsSync(join(root, 'packages', p, 'package.json')))
rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
for (const p of packages) rmSync(join(root, 'packages', p, '.artifacts', 'examples'), { recursive: true, force: true })

const all = []
const problems = []
for (const found of [...docs.map(blocksOf), ...packages.flatMap(sourcesOf).map(examplesOf)]) {
  all.push(...found.blocks)
  problems.push(...found.problems)
}

const checked = []
const skipped = []
for (const block of all) {
  const skip = block.markers.find((m) => 'skip' in m)
  if (skip) {
    skipped.push({ ...block, reason: skip.skip })
    continue
  }
  const prelude = block.markers
    .filter((m) => 'prelude' in m)
    .map((m) => m.prelude)
    .join('\n')
  const preludeLines = prelude === '' ? 0 : prelude.split('\n').length
  const name = `${block.file.replace(/[^a-z0-9]+/gi, '-').replace(/-(md|ts)$/i, '')}-L${block.line}.ts`
  const path = block.dir ? join(root, block.dir, '.artifacts', 'examples', name) : join(outDir, name)
  mkdirSync(join(path, '..'), { recursive: true })
  // `export {}` keeps every block a module of its own (top-level await, no clashes between blocks).
  writeFileSync(path, `${prelude === '' ? '' : `${prelude}\n`}${block.code}\nexport {}\n`)
  checked.push({ ...block, path, preludeLines })
}

/** `paths` for every export of every package, bare and `npm:`, to the file of its `sluice-source` condition. */
function exportPaths() {
  const paths = {}
  for (const p of packages) {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', p, 'package.json'), 'utf8'))
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const file = typeof target === 'object' ? target['sluice-source'] : undefined
      if (!file) continue
      const name = manifest.name + subpath.slice(1)
      const to = [relative(outDir, join(root, 'packages', p, file))]
      paths[name] = to
      paths[`npm:${name}`] = to
    }
  }
  // React's types, as the client package installs them (sluice/react snippets).
  paths.react = [relative(outDir, join(root, 'packages', 'sluice', 'node_modules', '@types', 'react', 'index.d.ts'))]
  // The README's recipes for libraries the client's tests use (devDependencies of packages/sluice).
  paths['@tanstack/query-core'] = [
    relative(
      outDir,
      join(root, 'packages', 'sluice', 'node_modules', '@tanstack', 'query-core', 'build', 'modern', 'index.d.ts'),
    ),
  ]
  paths.rxjs = [
    relative(outDir, join(root, 'packages', 'sluice', 'node_modules', 'rxjs', 'dist', 'types', 'index.d.ts')),
  ]
  return paths
}
const tsconfig = {
  extends: relative(outDir, join(root, 'tsconfig.base.json')),
  compilerOptions: {
    noEmit: true,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    exactOptionalPropertyTypes: true,
    // Node types only where a snippet imports sluice-server/node (it references them itself).
    types: [],
    paths: exportPaths(),
  },
  files: checked.map((b) => relative(outDir, b.path)),
}
writeFileSync(join(outDir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`)

const config = ts.getParsedCommandLineOfConfigFile(
  join(outDir, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    },
  },
)
const program = ts.createProgram({ rootNames: config.fileNames, options: config.options })
const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]

let passed = 0
let failed = 0
for (const block of checked) {
  const sourceFile = program.getSourceFile(block.path)
  const diagnostics = sourceFile
    ? [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)]
    : []
  const where = `${block.file}:${block.line}`
  if (!sourceFile || diagnostics.length > 0) {
    failed++
    console.log(`FAIL ${where}`)
    if (!sourceFile) console.log(`  not in the program: ${block.path}`)
    for (const d of diagnostics) {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n    ')
      let at = where
      if (d.file && d.start !== undefined) {
        const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
        at =
          line < block.preludeLines
            ? `${block.file} (prelude of the block at line ${block.line}, line ${line + 1})`
            : `${block.file}:${block.line + line - block.preludeLines}:${character + 1}`
      }
      console.log(`  ${at} TS${d.code}: ${message}`)
    }
  } else {
    passed++
    console.log(`ok   ${where}`)
  }
}
for (const block of skipped) console.log(`skip ${block.file}:${block.line} (${block.reason})`)
for (const problem of problems) console.log(`FAIL ${problem}`)
for (const d of global) console.log(`FAIL ${ts.flattenDiagnosticMessageText(d.messageText, '\n  ')}`)
if (checked.length === 0) console.log('FAIL no ```ts block found: the extraction is broken')

// A misplaced marker or a broken config counts as one failure each, never silently.
failed += problems.length + global.length + (checked.length === 0 ? 1 : 0)
console.log(
  `docs: ${checked.length} snippets typechecked, ${skipped.length} skipped; ${passed} passed, ${failed} failed`,
)
if (process.env.SLUICE_RESULTS) {
  writeFileSync(process.env.SLUICE_RESULTS, `${JSON.stringify({ numPassedTests: passed, numFailedTests: failed })}\n`)
}
process.exit(failed > 0 ? 1 : 0)

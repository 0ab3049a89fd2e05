// Typechecks every ```ts block of the documentation (README.md, packages/*/README.md, docs/*.md)
// against the workspace's sources, so a snippet users copy compiles. One test per block: writes
// `{ numPassedTests, numFailedTests }` to $SLUICE_RESULTS for scripts/test.mjs.
//
// Markers, HTML comments right before a block (only blank lines or other markers in between):
//   <!-- prelude: declare const response: Response -->
//       TypeScript put before the block (may span lines); declares the free names a snippet uses.
//       Errors inside a prelude are reported too.
//   <!-- docs-check: skip (why) -->
//       the block is not checked (counted neither passed nor failed); the reason is required.
//
// Each block is its own module: `.artifacts/docs/<doc>-L<line>.ts`, with a tsconfig there
// (`node_modules/.bin/tsc -p .artifacts/docs` reproduces a run). `sluice`, `sluice/protocol`,
// `sluice-server`, `sluice-server/node` (and Deno's `npm:` spellings) resolve to the packages' src/;
// `zod` to the workspace's. Strict settings: tsconfig.base.json plus exactOptionalPropertyTypes.
import { createRequire } from 'node:module'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const ts = createRequire(join(root, 'package.json'))('typescript')
const outDir = join(root, '.artifacts', 'docs')

const docs = [
  'README.md',
  ...dir('packages').flatMap((p) => (existsSync(join(root, 'packages', p, 'README.md')) ? [`packages/${p}/README.md`] : [])),
  ...dir('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
]

function dir(path) {
  return existsSync(join(root, path)) ? readdirSync(join(root, path)).sort() : []
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
      while (!text.includes('-->') && i + 1 < lines.length) text += '\n' + lines[++i]
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
      else if (markers.length > 0) problems.push(`${file}:${i + 1}: a marker before a \`\`\`${lang} block, which is not checked`)
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

rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })

const all = []
const problems = []
for (const doc of docs) {
  const found = blocksOf(doc)
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
  const prelude = block.markers.filter((m) => 'prelude' in m).map((m) => m.prelude).join('\n')
  const preludeLines = prelude === '' ? 0 : prelude.split('\n').length
  const name = `${block.file.replace(/[^a-z0-9]+/gi, '-').replace(/-md$/i, '')}-L${block.line}.ts`
  const path = join(outDir, name)
  // `export {}` keeps every block a module of its own (top-level await, no clashes between blocks).
  writeFileSync(path, `${prelude === '' ? '' : prelude + '\n'}${block.code}\nexport {}\n`)
  checked.push({ ...block, path, preludeLines })
}

const src = (p) => relative(outDir, join(root, 'packages', p))
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
    paths: {
      sluice: [src('sluice/src/index.ts')],
      'sluice/protocol': [src('sluice/src/protocol.ts')],
      'sluice/store': [src('sluice/src/store.ts')],
      'sluice/react': [src('sluice/src/react.ts')],
      'sluice-server': [src('sluice-server/src/index.ts')],
      'sluice-server/node': [src('sluice-server/src/node.ts')],
      'npm:sluice': [src('sluice/src/index.ts')],
      'npm:sluice/protocol': [src('sluice/src/protocol.ts')],
      'npm:sluice-server': [src('sluice-server/src/index.ts')],
      'npm:sluice-server/node': [src('sluice-server/src/node.ts')],
      // The README's recipes for libraries the client's tests use (devDependencies of packages/sluice).
      '@tanstack/query-core': [src('sluice/node_modules/@tanstack/query-core/build/modern/index.d.ts')],
      rxjs: [src('sluice/node_modules/rxjs/dist/types/index.d.ts')],
    },
  },
  files: checked.map((b) => relative(outDir, b.path)),
}
writeFileSync(join(outDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2) + '\n')

const config = ts.getParsedCommandLineOfConfigFile(join(outDir, 'tsconfig.json'), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  },
})
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
console.log(`docs: ${checked.length} snippets typechecked, ${skipped.length} skipped; ${passed} passed, ${failed} failed`)
if (process.env.SLUICE_RESULTS) {
  writeFileSync(process.env.SLUICE_RESULTS, JSON.stringify({ numPassedTests: passed, numFailedTests: failed }) + '\n')
}
process.exit(failed > 0 ? 1 : 0)

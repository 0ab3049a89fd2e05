// What each module costs an import, in gzip bytes: the import bundled as `check-package.mjs` sizes
// it, once whole and once with one module's exports replaced by empty stubs; the difference is that
// module's cost with everything only it pulls in (docs/runtimes.md: "what the targets would take").
//   node scripts/size-by-module.mjs [decodeNdjson sse ...]   (from packages/sluice, after a build)
import { basename, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const pkgDir = resolve(import.meta.dirname, '..')
const names = process.argv.slice(2)

async function gzipOf(entry, stubbed) {
  const stub = {
    name: 'stub',
    setup(builder) {
      builder.onLoad({ filter: /\.js$/ }, async ({ path }) => {
        if (basename(path) !== stubbed) return undefined
        const exports = Object.keys(await import(pathToFileURL(path).href))
        return { contents: exports.map((name) => `export const ${name} = globalThis.${name}`).join('\n') }
      })
    },
  }
  const result = await build({
    stdin: { contents: entry, resolveDir: pkgDir },
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    metafile: true,
    logLevel: 'silent',
    plugins: stubbed ? [stub] : [],
  })
  const inputs = Object.keys(Object.values(result.metafile.outputs)[0].inputs).map((input) => basename(input))
  return { gzip: gzipSync(result.outputFiles[0].contents, { level: 9 }).length, inputs }
}

for (const name of names.length > 0 ? names : ['*', 'sse', 'ndjson', 'decodeSse', 'decodeNdjson']) {
  const entry = name === '*' ? 'export * from "./dist/index.js"' : `export { ${name} } from "./dist/index.js"`
  const whole = await gzipOf(entry)
  const costs = []
  for (const input of whole.inputs.filter((file) => file.endsWith('.js') && file !== 'index.js')) {
    costs.push([input.replace(/\.js$/, ''), whole.gzip - (await gzipOf(entry, input)).gzip])
  }
  costs.sort((a, b) => b[1] - a[1])
  console.log(
    `${name === '*' ? 'whole entry' : name}: ${whole.gzip} B; ${costs.map(([m, b]) => `${m} ${b}`).join(', ')}`,
  )
}

#!/usr/bin/env node
// The entry points of a case's processes as bundles: every repetition starts fresh
// Node processes, and a Node process pays for each module it loads (a resolve, a
// read, a compile) before its first message. Run by `npm run build` after tsc, it
// writes dist/harness/case/main.js and fanin-sender.js over tsc's, with what they
// load lazily (side a, side b, each mechanism) in chunks beside them, so a case
// process loads a handful of files instead of some sixty. Packages stay external.
//
// Each module keeps the location it has in dist/: its `import.meta.url` is rewritten
// to the URL of its own compiled file, so the paths it derives (the package root, the
// case entry, piscina's task, the addon's loader) are those of the unbundled build.
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SRC = join(ROOT, 'src')
const DIST = join(ROOT, 'dist')
const OUT = join(DIST, 'harness/case')
const ENTRIES = ['main', 'fanin-sender']

/** `import.meta.url` of src/x/y.ts as the URL of dist/x/y.js, relative to the bundle that now holds it. */
const keepOwnUrl = {
  name: 'keep-own-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8')
      if (!text.includes('import.meta.url')) return undefined
      const compiled = join(DIST, relative(SRC, args.path)).replace(/\.ts$/, '.js')
      const rel = relative(OUT, compiled)
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'ts' }
    })
  },
}

await build({
  entryPoints: ENTRIES.map((e) => join(SRC, 'harness/case', `${e}.ts`)),
  outdir: OUT,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [keepOwnUrl],
})

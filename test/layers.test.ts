import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkLayers, importsOf, mechanismIds } from '../scripts/check-layers.mjs'
import { ROOT } from './helpers.js'

/** The dependency rule (scripts/check-layers.mjs): on the real tree, and on a small synthetic one that breaks it. */
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'ipcbench-test-layers-'))
  dirs.push(root)
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true })
    writeFileSync(join(root, rel), text)
  }
  return root
}

const REGISTRY = `export const MECHANISMS = [\n  { id: 'x', family: 'fd' },\n  { id: 'y-z', family: 'socket' },\n]\n`

describe('check-layers', () => {
  it('the real tree keeps the rule', () => {
    expect(checkLayers(ROOT)).toEqual([])
  })

  it('the real registry names the mechanisms', () => {
    const ids = mechanismIds(ROOT)
    expect(ids).toEqual(expect.arrayContaining(['pipe', 'fifo', 'unix-stream', 'shm-ring', 'message-channel']))
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('mechanismIds reads every `id:` of the registry, in order', () => {
    expect(mechanismIds(tree({ 'src/mechanisms/registry.ts': REGISTRY }))).toEqual(['x', 'y-z'])
  })

  it('reports an upward import and a mechanism named above src/mechanisms, and nothing else', () => {
    const root = tree({
      'src/mechanisms/registry.ts': REGISTRY,
      // Inside mechanisms, naming a mechanism is fine.
      'src/mechanisms/x.ts': `export const isX = (id: string) => id === 'x'\n`,
      'src/core/a.ts': `import { b } from '../report/b.js'\nexport const a = b\n`,
      'src/report/b.ts': `import type { a } from '../core/a.js'\nexport const b = 1\n`,
      'src/harness/run/c.ts': `import { a } from '../../core/a.js'\nexport function f(spec: { mechanism: string }) {\n  if (spec.mechanism === 'x') return a\n  return 0\n}\n`,
    })
    expect(checkLayers(root).sort()).toEqual([
      'src/core/a.ts: core imports report (../report/b.js), an import that runs upward',
      'src/harness/run/c.ts: names the mechanism "x"; let its descriptor in src/mechanisms/registry.ts carry what is needed',
    ])
  })

  it('a file in no layer, and an import leaving every layer, are reported', () => {
    const root = tree({
      'src/mechanisms/registry.ts': REGISTRY,
      'src/stray/s.ts': `export const s = 1\n`,
      'src/core/d.ts': `export * from '../../outside.js'\n`,
    })
    expect(checkLayers(root).sort()).toEqual([
      'src/core/d.ts: imports ../../outside.js, outside every layer',
      'src/stray/s.ts: belongs to no layer (see LAYERS in scripts/check-layers.mjs)',
    ])
  })

  it('a mechanism named in a switch or as a key counts; a longer id containing it does not', () => {
    const root = tree({
      'src/mechanisms/registry.ts': REGISTRY,
      'src/report/k.ts': `export const t = { 'y-z': 1 }\n`,
      'src/report/s.ts': `export function g(m: string) {\n  switch (m) {\n    case 'x':\n      return 1\n  }\n  return m === 'x-other' ? 2 : 0\n}\n`,
    })
    expect(checkLayers(root).sort()).toEqual([
      'src/report/k.ts: names the mechanism "y-z"; let its descriptor in src/mechanisms/registry.ts carry what is needed',
      'src/report/s.ts: names the mechanism "x"; let its descriptor in src/mechanisms/registry.ts carry what is needed',
    ])
  })
})

describe('importsOf', () => {
  it('finds static imports, type imports, re-exports and dynamic imports, relative ones only', () => {
    const text = [
      `import { a } from './a.js'`,
      `import type { B } from '../b.js'`,
      `import * as c from "./c.js"`,
      `import {`,
      `  d,`,
      `  e,`,
      `} from './de.js'`,
      `export { f } from './f.js'`,
      `export * from '../g.js'`,
      `import fs from 'node:fs'`,
      `const h = await import('./h.js')`,
      `const i = () => import( "../i.js" )`,
      `const notAnImport = "from './j.js'"`,
    ].join('\n')
    expect(importsOf(text)).toEqual(['./a.js', '../b.js', './c.js', './de.js', './f.js', '../g.js', './h.js', '../i.js'])
  })

  it('finds nothing in a file without imports', () => {
    expect(importsOf('export const x = 1\n')).toEqual([])
  })
})

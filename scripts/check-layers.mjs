#!/usr/bin/env node
// The dependency rule: layers point one way, and nothing above src/mechanisms names a
// mechanism. Run by `npm run lint` (and a test); prints each problem and exits 1.
//
//   cli ──► report, harness ──► mechanisms ──► native ──► core
//   report sees only core (the result types, units, statistics)
//   harness: run ──► plan, case ──► host; plan may read case's protocol types
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** What each part may import (itself included); the first prefix that matches a file names its part. */
export const LAYERS = [
  { part: 'core', prefix: 'src/core/', may: ['core'] },
  { part: 'native', prefix: 'src/native/', may: ['core', 'native'] },
  { part: 'mechanisms', prefix: 'src/mechanisms/', may: ['core', 'native', 'mechanisms'] },
  { part: 'harness/host', prefix: 'src/harness/host/', may: ['core', 'native', 'mechanisms', 'harness/host'] },
  { part: 'harness/case', prefix: 'src/harness/case/', may: ['core', 'native', 'mechanisms', 'harness/host', 'harness/case'] },
  { part: 'harness/plan', prefix: 'src/harness/plan/', may: ['core', 'native', 'mechanisms', 'harness/host', 'harness/case', 'harness/plan'] },
  {
    part: 'harness/run',
    prefix: 'src/harness/run/',
    may: ['core', 'native', 'mechanisms', 'harness/host', 'harness/case', 'harness/plan', 'harness/run'],
  },
  { part: 'report', prefix: 'src/report/', may: ['core', 'report'] },
  {
    part: 'api',
    prefix: 'src/index.ts',
    may: ['core', 'native', 'mechanisms', 'harness/host', 'harness/case', 'harness/plan', 'harness/run', 'report', 'api'],
  },
  {
    part: 'cli',
    prefix: 'src/cli',
    may: ['core', 'native', 'mechanisms', 'harness/host', 'harness/case', 'harness/plan', 'harness/run', 'report', 'api', 'cli'],
  },
]

const partOf = (rel) => LAYERS.find((l) => rel === l.prefix || rel.startsWith(l.prefix))

function sourceFiles(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (name.endsWith('.ts')) out.push(p)
  }
  return out
}

/** Relative specifiers of static imports, re-exports and dynamic import() calls. */
export function importsOf(text) {
  const specs = []
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"](\.[^'"]+)['"]/g)) specs.push(m[1])
  for (const m of text.matchAll(/\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g)) specs.push(m[1])
  return specs
}

/** Mechanism ids, as the registry declares them. */
export function mechanismIds(root) {
  const text = readFileSync(join(root, 'src/mechanisms/registry.ts'), 'utf8')
  return [...text.matchAll(/\bid:\s*'([a-z0-9-]+)'/g)].map((m) => m[1])
}

/** A string literal used as a mechanism's name: compared with, switched on, or a key. */
function namesMechanism(text, id) {
  const lit = `['"\`]${id.replace(/[-]/g, '\\-')}['"\`]`
  return new RegExp(`(?:[!=]==?\\s*${lit}|${lit}\\s*[!=]==?|\\bcase\\s+${lit}|${lit}\\s*:(?!:))`).test(text)
}

export function checkLayers(root) {
  const problems = []
  const ids = mechanismIds(root)
  for (const file of sourceFiles(join(root, 'src'))) {
    const rel = relative(root, file).split('\\').join('/')
    const from = partOf(rel)
    if (!from) {
      problems.push(`${rel}: belongs to no layer (see LAYERS in scripts/check-layers.mjs)`)
      continue
    }
    const text = readFileSync(file, 'utf8')
    for (const spec of importsOf(text)) {
      const target = relative(root, resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
        .split('\\')
        .join('/')
      const to = partOf(target)
      if (!to) problems.push(`${rel}: imports ${spec}, outside every layer`)
      else if (!from.may.includes(to.part)) problems.push(`${rel}: ${from.part} imports ${to.part} (${spec}), an import that runs upward`)
    }
    if (from.part !== 'mechanisms') {
      for (const id of ids)
        if (namesMechanism(text, id))
          problems.push(`${rel}: names the mechanism "${id}"; let its descriptor in src/mechanisms/registry.ts carry what is needed`)
    }
  }
  return problems
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  const problems = checkLayers(root)
  for (const p of problems) console.error(p)
  if (problems.length > 0) process.exit(1)
  console.log(`layers: ${sourceFiles(join(root, 'src')).length} files, every import points down, no mechanism named above src/mechanisms`)
}

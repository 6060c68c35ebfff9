import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from './helpers.js'

/**
 * The case's entry points as `npm run build` leaves them (scripts/bundle-case.mjs): one
 * file each, loading nothing of ours beside itself, with every path a module derives
 * from its own location pointing where the unbundled build has it.
 */
const CASE_DIR = join(ROOT, 'dist/harness/case')
const ENTRIES = ['main.js', 'fanin-sender.js']

describe.each(ENTRIES)('the bundled %s', (entry) => {
  const text = readFileSync(join(CASE_DIR, entry), 'utf8')

  it('imports only Node built-ins and packages, never a module of ours', () => {
    const specifiers = [...text.matchAll(/(?:\bfrom|\bimport\()\s*"([^"]+)"/g)].map((m) => m[1])
    expect(specifiers.length).toBeGreaterThan(0)
    expect(specifiers.filter((s) => s.startsWith('.') || s.startsWith('/'))).toEqual([])
    // A package at the top would be loaded by every case: piscina comes only with its cases.
    expect(specifiers.filter((s) => !s.startsWith('node:'))).toEqual(['piscina'])
    expect(text).toMatch(/import\("piscina"\)/)
  })

  it('each module keeps its own location: the compiled file its import.meta.url now names exists', () => {
    const own = [...text.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)].map((m) => m[1])
    expect(own).toContain('../../core/paths.js')
    for (const rel of own) expect(existsSync(join(CASE_DIR, rel)), rel).toBe(true)
  })
})

it('the case entry starts and says what it is when run by hand (it loads whole)', () => {
  const r = spawnSync(process.execPath, [join(CASE_DIR, 'main.js')], { encoding: 'utf8', timeout: 30_000 })
  expect(r.status).toBe(2)
  expect(r.stderr).toMatch(/internal entry point/)
})

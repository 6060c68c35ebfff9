import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import type { TallyLine } from './fault-suite.js'

/**
 * Gives the test files one tally file for the fault suite (fault-suite.ts) and, once
 * every file has run, prints what it counts over all of them: the faults injected, how
 * many the harness survived, and the objects they left.
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ipcbench-test-faults-'))
  const file = join(dir, 'tally.jsonl')
  project.provide('faultTally', file)
  return () => {
    let lines: TallyLine[] = []
    try {
      lines = readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as TallyLine)
    } catch {
      // no fault ran (a run of other test files)
    }
    rmSync(dir, { recursive: true, force: true })
    if (lines.length === 0) return
    const count = (e: TallyLine['event']) => lines.filter((l) => l.event === e).length
    const leaked = lines.flatMap((l) => l.left ?? [])
    const lost = [...new Set(lines.filter((l) => l.event === 'injected').map((l) => l.fault))].filter(
      (f) => !lines.some((l) => l.fault === f && l.event === 'survived'),
    )
    console.log(`\nfault suite: ${count('injected')} faults injected, ${count('survived')} survived, ${leaked.length} objects leaked`)
    for (const f of lost) console.log(`  not survived: ${f}`)
    for (const o of leaked) console.log(`  leaked: ${o}`)
  }
}

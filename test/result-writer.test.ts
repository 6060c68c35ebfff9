import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { RunResult } from '../src/core/result.js'
import { loadRun } from '../src/report/load.js'
import { ResultWriter } from '../src/harness/run/session.js'
import { tempFile } from './helpers.js'

/** The result file as it grows: after every case it holds exactly the run so far, and loads. */
describe('ResultWriter', () => {
  it('writes the run after every case, each case as it was, in a file that loads as the run', () => {
    const full = loadRun('test/fixtures/run-a.json')
    expect(full.cases.length).toBeGreaterThan(2)
    const run: RunResult = { ...full, cases: [] }
    const path = tempFile('result.json')
    const writer = new ResultWriter(path, run)
    writer.write()
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(run)
    for (const c of full.cases) {
      run.cases.push(c)
      writer.write()
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(run)
    }
    // What is outside the cases is written as it is at each write (the run's end, here).
    run.context.status = 'finished'
    writer.write()
    const text = readFileSync(path, 'utf8')
    expect(loadRun(path)).toEqual(run)
    expect(text.trimEnd().split('\n')).toHaveLength(1)
  })
})

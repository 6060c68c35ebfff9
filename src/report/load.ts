import { readFileSync } from 'node:fs'
import { reasonOf, UsageError } from '../core/errors.js'
import { RUN_SCHEMA, RUN_SCHEMA_V1, RUN_SCHEMA_V2, type RunResult } from '../core/result.js'
import type { Warning, WarningCode } from '../core/warnings.js'

/**
 * Reads a result file for `report`, `compare` and `history`. Anything that is not a
 * readable `ipcbench/run@2` file (or an earlier `run@1`, brought up to date here) is
 * the user's input to fix, so it is a UsageError naming the file and the problem.
 */
export function loadRun(path: string): RunResult {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new UsageError(`${path}: no such file (pass a result file written by "ipcbench run", e.g. results/<run-id>.json)`)
    if (code === 'EISDIR') throw new UsageError(`${path}: is a directory, not a result file`)
    throw new UsageError(`${path}: cannot be read (${reasonOf(err)})`)
  }
  return parseRun(text, path)
}

export function parseRun(text: string, path = '<input>'): RunResult {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    const hint = text.trim().length === 0 ? 'the file is empty' : `not valid JSON (${(err as Error).message}); was the run interrupted while writing?`
    throw new UsageError(`${path}: ${hint}`)
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`${path}: not an ipcbench result (expected a JSON object with "schema": "${RUN_SCHEMA}")`)
  }
  const schema = (data as { schema?: unknown }).schema
  if (typeof schema !== 'string' || !schema.startsWith('ipcbench/')) {
    throw new UsageError(`${path}: not an ipcbench result (no "schema" field starting with "ipcbench/"; expected "${RUN_SCHEMA}")`)
  }
  if (schema !== RUN_SCHEMA && schema !== RUN_SCHEMA_V2 && schema !== RUN_SCHEMA_V1) {
    const m = /^ipcbench\/run@(\d+)$/.exec(schema)
    if (m && Number(m[1]) > 3) {
      throw new UsageError(`${path}: schema "${schema}" is newer than this ipcbench understands (${RUN_SCHEMA}); upgrade ipcbench to read it`)
    }
    throw new UsageError(`${path}: schema "${schema}" is not a run result (expected "${RUN_SCHEMA}")`)
  }
  const run = data as RunResult
  if (typeof run.context !== 'object' || run.context === null || !Array.isArray(run.cases)) {
    throw new UsageError(`${path}: malformed result (needs "context" and a "cases" array)`)
  }
  for (const [i, c] of run.cases.entries()) {
    if (typeof c?.id !== 'string' || typeof c.state !== 'string' || !Array.isArray(c.repetitions)) {
      throw new UsageError(`${path}: malformed case at cases[${i}] (needs "id", "state" and "repetitions")`)
    }
  }
  // A run@2 file is a run@3 file without the new patterns' figures.
  return schema === RUN_SCHEMA_V1 ? fromV1(run) : { ...run, schema: RUN_SCHEMA }
}

/** Old warnings had no codes: the two that `compare` looks for are recognised by their text, once, here. */
function legacyWarning(w: unknown): Warning {
  if (typeof w !== 'string') return w as Warning
  const code: WarningCode = /^busy host/.test(w) ? 'busy-host' : /governor/.test(w) ? 'cpu-governor' : 'legacy'
  return { code, message: w }
}

/**
 * run@1 → run@2: the C floor was called the baseline (`baseline`, `ratioToBaseline`,
 * `options.baseline`), and warnings were strings.
 */
function fromV1(run: RunResult): RunResult {
  type V1Case = { baseline?: unknown; ratioToBaseline?: unknown; warnings?: unknown[] }
  const options = run.context.options as unknown as Record<string, unknown> | undefined
  if (options && 'baseline' in options) {
    options.floor = options.baseline
    delete options.baseline
  }
  run.context.warnings = (run.context.warnings ?? []).map(legacyWarning)
  for (const c of run.cases as unknown as Array<V1Case & Record<string, unknown>>) {
    if ('baseline' in c) {
      c.floor = c.baseline
      delete c.baseline
    }
    if ('ratioToBaseline' in c) {
      c.ratioToFloor = c.ratioToBaseline
      delete c.ratioToBaseline
    }
    c.warnings = (c.warnings ?? []).map(legacyWarning)
  }
  return { ...run, schema: RUN_SCHEMA }
}

import type { CaseSpec } from './result.js'
import { formatSizeBytes } from './units.js'

/** A case's stable, readable id, built from its parameters: `pipe/blocking/process/pingpong/64B`. */
export function caseId(c: Omit<CaseSpec, 'id'>): string {
  const mech = c.variant ? `${c.mechanism}:${c.variant}` : c.mechanism
  return `${mech}/${c.mode}/${c.endpoints}/${c.pattern}/${formatSizeBytes(c.sizeBytes)}`
}

/** `--cases` selection: exact ids, or glob-like patterns where `*` matches anything. */
export function matchesCase(id: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.includes('*') ? new RegExp(`^${p.split('*').map(escapeRe).join('.*')}$`).test(id) : p === id))
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
}

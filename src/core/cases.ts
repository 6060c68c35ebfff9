import type { CaseSpec } from './result.js'
import { formatSizeBytes } from './units.js'

/** A case's stable, readable id, built from its parameters: `pipe/blocking/process/pingpong/64B`. */
export function caseId(c: Omit<CaseSpec, 'id'>): string {
  const mech = c.variant ? `${c.mechanism}:${c.variant}` : c.mechanism
  // A fan-in case's count stays in the pattern's segment, so an id keeps its five parts.
  const pattern = c.pattern === 'fanin' ? `fanin-${c.senders ?? 1}` : c.pattern
  return `${mech}/${c.mode}/${c.endpoints}/${pattern}/${formatSizeBytes(c.sizeBytes)}`
}

/** `--cases` selection: exact ids, or glob-like patterns where `*` matches anything. */
export function matchesCase(id: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.includes('*') ? new RegExp(`^${p.split('*').map(escapeRe).join('.*')}$`).test(id) : p === id))
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
}

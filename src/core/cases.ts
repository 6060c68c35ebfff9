import type { CaseSpec, OfferedRate } from './result.js'
import { formatSizeBytes } from './units.js'

/** A case's stable, readable id, built from its parameters: `pipe/blocking/process/pingpong/64B`. */
export function caseId(c: Omit<CaseSpec, 'id'>): string {
  const mech = c.variant ? `${c.mechanism}:${c.variant}` : c.mechanism
  // A fan-in case's count, a load case's rate and a pair count stay in the pattern's segment, so an id keeps its five parts.
  let pattern: string = c.pattern === 'fanin' ? `fanin-${c.senders ?? 1}` : c.pattern
  if (c.pattern === 'load' && c.rate) pattern += `-${rateLabel(c.rate)}`
  if ((c.pairs ?? 1) > 1) pattern += `-x${c.pairs}`
  return `${mech}/${c.mode}/${c.endpoints}/${pattern}/${formatSizeBytes(c.sizeBytes)}`
}

/** `10pct` of the case's capacity, or `20000mps` (messages per second): a rate as ids and file names spell it. */
export function rateLabel(rate: OfferedRate): string {
  return 'percent' in rate ? `${rate.percent}pct` : `${rate.msgsPerSec}mps`
}

/** `10%` or `20000 msg/s`: a rate as reports print it. */
export function formatRate(rate: OfferedRate): string {
  return 'percent' in rate ? `${rate.percent}%` : `${rate.msgsPerSec} msg/s`
}

/** `--cases` selection: exact ids, or glob-like patterns where `*` matches anything. */
export function matchesCase(id: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.includes('*') ? new RegExp(`^${p.split('*').map(escapeRe).join('.*')}$`).test(id) : p === id))
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
}

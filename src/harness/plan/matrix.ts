import type { Mechanism } from '../mechanisms/types.js'
import type { CaseSpec, Endpoints, Mode, Pattern, ResolvedOptions } from '../types.js'
import { formatSizeBytes } from '../util/units.js'

export function caseId(c: Omit<CaseSpec, 'id'>): string {
  const mech = c.variant ? `${c.mechanism}:${c.variant}` : c.mechanism
  return `${mech}/${c.mode}/${c.endpoints}/${c.pattern}/${formatSizeBytes(c.sizeBytes)}`
}

/**
 * The cases of a run: each selected mechanism × variant × endpoints × mode ×
 * pattern × size it offers. Notification mechanisms have one fixed size.
 */
export function expandMatrix(
  mechanisms: readonly Mechanism[],
  o: Pick<ResolvedOptions, 'modes' | 'endpoints' | 'patterns' | 'sizesBytes'> & Partial<Pick<ResolvedOptions, 'endpointsPerMechanism'>>,
): CaseSpec[] {
  const cases: CaseSpec[] = []
  for (const m of mechanisms) {
    let kinds = intersect<Endpoints>(o.endpoints, m.endpoints)
    if (o.endpointsPerMechanism === 'one' && kinds.includes('process')) kinds = ['process']
    for (const variant of m.variants ?? [undefined]) {
      for (const endpoints of kinds) {
        for (const mode of intersect<Mode>(o.modes, m.modes)) {
          for (const pattern of intersect<Pattern>(o.patterns, m.patterns)) {
            if (m.offers && !m.offers({ mode, endpoints, pattern, variant })) continue
            const sizes = m.fixedSizeBytes !== undefined ? [m.fixedSizeBytes] : o.sizesBytes[pattern]
            for (const sizeBytes of sizes) {
              const spec = { mechanism: m.id, ...(variant ? { variant } : {}), mode, endpoints, pattern, sizeBytes }
              cases.push({ id: caseId(spec), ...spec })
            }
          }
        }
      }
    }
  }
  return cases
}

function intersect<T>(wanted: readonly T[], offered: readonly T[]): T[] {
  return wanted.filter((x) => offered.includes(x))
}

/** `--cases` selection: exact ids, or glob-like patterns with `*`. */
export function matchesCase(id: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.includes('*') ? new RegExp(`^${p.split('*').map(escapeRe).join('.*')}$`).test(id) : p === id))
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
}

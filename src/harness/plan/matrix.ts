import type { Mechanism } from '../../mechanisms/types.js'
import type { CaseSpec, Endpoints, Mode, Pattern, ResolvedOptions } from '../../core/result.js'
import { caseId } from '../../core/cases.js'
import { getMechanism } from '../../mechanisms/registry.js'

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
            const sizes = m.fixedSizeBytes !== undefined ? [m.fixedSizeBytes] : o.sizesBytes[pattern]
            for (const sizeBytes of sizes) {
              const spec = { mechanism: m.id, ...(variant ? { variant } : {}), family: m.family, mode, endpoints, pattern, sizeBytes }
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

/** The run's cases, in matrix order, optionally narrowed by `--cases`. */
export function planCases(o: ResolvedOptions, caseFilter?: (id: string) => boolean): CaseSpec[] {
  const all = expandMatrix(o.mechanisms.map(getMechanism), o)
  return caseFilter ? all.filter((c) => caseFilter(c.id)) : all
}

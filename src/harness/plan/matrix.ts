import type { Mechanism } from '../../mechanisms/types.js'
import { PAIR_PATTERNS, type CaseSpec, type Endpoints, type Mode, type Pattern, type ResolvedOptions } from '../../core/result.js'
import { caseId } from '../../core/cases.js'
import { getMechanism } from '../../mechanisms/registry.js'

/**
 * The cases of a run: each selected mechanism × variant × endpoints × mode ×
 * pattern × size it offers. Notification mechanisms have one fixed size.
 */
export function expandMatrix(
  mechanisms: readonly Mechanism[],
  o: Pick<ResolvedOptions, 'modes' | 'endpoints' | 'patterns' | 'sizesBytes'> &
    Partial<Pick<ResolvedOptions, 'endpointsPerMechanism' | 'senders' | 'rates' | 'pairs'>>,
): CaseSpec[] {
  const cases: CaseSpec[] = []
  // One-way goes where ping-pong does (its acknowledgement needs the way back), load where stream does.
  const offers = (m: Mechanism, p: Pattern): boolean => m.patterns.includes(p === 'oneway' ? 'pingpong' : p === 'load' ? 'stream' : p)
  const rates = o.rates ?? [{ percent: 50 }]
  const pairs = o.pairs ?? [1]
  for (const m of mechanisms) {
    let kinds = intersect<Endpoints>(o.endpoints, m.endpoints)
    if (o.endpointsPerMechanism === 'one' && kinds.includes('process')) kinds = ['process']
    for (const variant of m.variants ?? [undefined]) {
      for (const endpoints of kinds) {
        for (const mode of intersect<Mode>(o.modes, m.modes)) {
          for (const pattern of intersect<Pattern>(o.patterns, PAIR_PATTERNS).filter((p) => offers(m, p))) {
            const sizes = m.fixedSizeBytes !== undefined ? [m.fixedSizeBytes] : pattern === 'stream' ? o.sizesBytes.stream : o.sizesBytes.pingpong
            for (const sizeBytes of sizes) {
              for (const rate of pattern === 'load' ? rates : [undefined]) {
                for (const n of pairs) {
                  const spec = {
                    mechanism: m.id,
                    ...(variant ? { variant } : {}),
                    family: m.family,
                    mode,
                    endpoints,
                    pattern,
                    sizeBytes,
                    ...(rate ? { rate } : {}),
                    ...(n > 1 ? { pairs: n } : {}),
                  }
                  cases.push({ id: caseId(spec), ...spec })
                }
              }
            }
          }
        }
      }
    }
    if (m.fanIn && o.patterns.includes('fanin')) cases.push(...fanInCases(m, o))
  }
  return cases
}

/** Sender counts when the options say none (results and API callers from before fan-in). */
export const DEFAULT_SENDERS: readonly number[] = [1, 2, 4]
export const DEFAULT_FANIN_SIZES: readonly number[] = [64]

/** A mechanism's fan-in cases: endpoints × mode × size × sender count, after its two-sided ones. */
function fanInCases(
  m: Mechanism,
  o: Pick<ResolvedOptions, 'modes' | 'endpoints' | 'sizesBytes'> & Partial<Pick<ResolvedOptions, 'endpointsPerMechanism' | 'senders'>>,
): CaseSpec[] {
  const fan = m.fanIn!
  const cases: CaseSpec[] = []
  let kinds = intersect<Endpoints>(o.endpoints, fan.endpoints)
  if (o.endpointsPerMechanism === 'one' && kinds.includes('process')) kinds = ['process']
  for (const endpoints of kinds) {
    for (const mode of intersect<Mode>(o.modes, fan.modes)) {
      for (const sizeBytes of o.sizesBytes.fanin ?? DEFAULT_FANIN_SIZES) {
        for (const senders of o.senders ?? DEFAULT_SENDERS) {
          const spec = { mechanism: m.id, family: m.family, mode, endpoints, pattern: 'fanin' as const, sizeBytes, senders }
          cases.push({ id: caseId(spec), ...spec })
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

import type { CaseComparison, Comparison, ConfirmRound, Verdict } from './compare.js'

/**
 * `ab`'s confirmation: the cases round 1 flagged (regressed or improved) were measured
 * again, interleaved, in a round 2, and a verdict stands only if round 2 reaches the
 * same one. A one-off hiccup (a noisy neighbour, a frequency dip) rarely strikes the
 * same case twice; a real change does. The final comparison keeps round 1's figures
 * for every case, with round 2's verdict beside each flagged one (`confirm`) and
 * `unchanged (not confirmed)` where the two rounds disagree. Round 2 is its own
 * family: Holm over the cases it re-measured.
 */
export function confirmComparison(round1: Comparison, round2: Comparison | undefined): Comparison {
  const ids = round1.cases.filter((c) => c.verdict !== 'unchanged').map((c) => c.id)
  const second = new Map((round2?.cases ?? []).map((c) => [c.id, c]))
  const missing = new Map((round2?.notCompared ?? []).map((n) => [n.id, n.reason]))
  const confirmed: string[] = []
  const cases = round1.cases.map((c): CaseComparison => {
    if (c.verdict === 'unchanged') return c
    const again = second.get(c.id)
    if (again?.verdict === c.verdict) {
      confirmed.push(c.id)
      return { ...c, confirm: confirmRound(again), detail: `${c.detail}; again in round 2: ${again.detail}` }
    }
    const round2Text = again
      ? `${again.verdict}${again.reason ? ` (${again.reason})` : ''} in round 2: ${again.detail}`
      : `not compared in round 2 (${missing.get(c.id) ?? 'not measured'})`
    return {
      ...c,
      verdict: 'unchanged',
      reason: 'not confirmed',
      detail: `${c.verdict} in round 1 (${c.detail}); ${round2Text}`,
      ...(again ? { confirm: confirmRound(again) } : {}),
      ...(again?.mdePct !== undefined ? { mdePct: again.mdePct } : {}),
    }
  })
  const counts: Record<Verdict, number> = { regressed: 0, improved: 0, unchanged: 0 }
  for (const c of cases) counts[c.verdict]++
  return { ...round1, cases, counts, confirmation: { ids, ...(round2 ? { round2 } : {}), confirmed } }
}

function confirmRound(c: CaseComparison): ConfirmRound {
  return { verdict: c.verdict, ...(c.reason ? { reason: c.reason } : {}), ratio: c.ratio, ci: c.ci, pAdjusted: c.pAdjusted, detail: c.detail }
}

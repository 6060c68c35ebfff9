import type { TopLevelSpec } from 'vega-lite'

/** The pieces every chart's Vega-Lite spec is built from: its look, its title block, and a scale fitted to its values. */

export type Obj = Record<string, unknown>

export const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 360 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: '#555' },
}

/**
 * Log where the values span a decade or more (and are all positive), from decade to
 * decade, ticked at the decades (and 2, 5 between them when there are few); linear,
 * not from zero, otherwise. The domain is explicit, so label placement can compute
 * where a value lands.
 */
export function scaleFor(values: number[], format = '~g'): { log: boolean; scale: Obj; axis: Obj } {
  const finite = values.filter((v) => Number.isFinite(v))
  const lo = Math.min(...finite)
  const hi = Math.max(...finite)
  const log = finite.length > 0 && lo > 0 && hi / lo >= 10
  if (!log) {
    const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.1 || 1
    return { log, scale: { zero: false, nice: false, domain: finite.length > 0 ? [lo - pad, hi + pad] : [0, 1] }, axis: { format } }
  }
  const [e0, e1] = [Math.floor(Math.log10(lo)), Math.ceil(Math.log10(hi))]
  // 10 ** -1 is 0.1 only after rounding; a label would read 0.10000000000000001.
  const decades = Array.from({ length: e1 - e0 + 1 }, (_, i) => Number((10 ** (e0 + i)).toPrecision(6)))
  const ticks = decades.length <= 3 ? decades.flatMap((d) => [d, 2 * d, 5 * d]).filter((t) => t <= decades[decades.length - 1]) : decades
  return {
    log,
    scale: { type: 'log', domain: [decades[0], decades[decades.length - 1]], nice: false },
    axis: { values: ticks, format, labelOverlap: 'greedy' },
  }
}

/** A spec with its title and subtitle at the top left, on white, in the common look. */
export function top(title: string, subtitle: string[], body: Obj): TopLevelSpec {
  return {
    title: { text: title, subtitle: subtitle.length > 0 ? subtitle : undefined, anchor: 'start', offset: 12 },
    background: 'white',
    padding: 10,
    config: CONFIG,
    ...body,
  } as TopLevelSpec
}

/** Reading an SVG that vega rendered, for tests of the charts. */

/** Data marks vega drew (points, line paths, rules, bars, labels), not axes or legends: the <path>/<line>/<text> elements inside its mark groups. */
export function countMarks(svg: string, mark: 'symbol' | 'line' | 'rule' | 'rect' | 'text'): number {
  let n = 0
  for (const m of svg.matchAll(new RegExp(`<g class="mark-${mark} role-mark[^"]*"[^>]*>(.*?)</g>`, 'gs')))
    n += (m[1].match(/<(path|line|text)\b/g) ?? []).length
  return n
}

/** Each text element's content (multi-line titles come as <tspan>s, one entry each). */
export const svgTexts = (svg: string): string[] => [...svg.matchAll(/<(text|tspan)[^>]*>([^<]*)</g)].map((m) => m[2]).filter((t) => t.length > 0)

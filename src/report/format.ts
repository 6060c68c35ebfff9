/** Short figures for dense text (the terminal summary, its findings): three significant digits, the unit after a space. */

/** Three significant digits: `872 ns`, `13.5 µs`, `143 µs`, `1.02 ms`. */
export function nsShort(ns: number): string {
  const units: Array<[number, string]> = [
    [1e9, 's'],
    [1e6, 'ms'],
    [1e3, 'µs'],
  ]
  for (const [scale, unit] of units) if (ns >= scale) return `${Number((ns / scale).toPrecision(3))} ${unit}`
  return `${ns.toFixed(0)} ns`
}

/** Thousands of messages per second, three significant digits at most. */
export const kShort = (perSec: number): string => {
  const k = perSec / 1e3
  return k >= 100 ? k.toFixed(0) : String(Number(k.toPrecision(3)))
}

/** Rows of cells as aligned text lines, the head first: the first column left-aligned, the others right-aligned, three spaces apart. */
export function alignColumns(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]].length)))
  const line = (r: string[]): string => r.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('   ')
  return [line(head), ...rows.map(line)]
}

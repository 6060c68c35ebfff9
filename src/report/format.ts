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

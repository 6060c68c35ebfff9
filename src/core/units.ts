/**
 * Parsing and formatting of sizes and durations. Parsers return `undefined` for
 * input they cannot read, so the caller can name the option in its error.
 */

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2 }

/** `64`, `1k`, `64KiB`, `1m` → bytes (binary multiples). */
export function parseSizeBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  if (!m) return undefined
  const mult = SIZE_UNITS[m[2].toLowerCase()]
  if (mult === undefined) return undefined
  const bytes = Number(m[1]) * mult
  return Number.isSafeInteger(bytes) ? bytes : undefined
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, min: 60_000 }

/** `2s`, `500ms`, `1.5s`, `2` (seconds) → milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|)\s*$/i.exec(text)
  if (!m) return undefined
  const ms = Number(m[1]) * DURATION_UNITS[m[2].toLowerCase()]
  return Number.isFinite(ms) ? ms : undefined
}

/** 64 → `64B`, 1024 → `1KiB`, 65536 → `64KiB`, 1048576 → `1MiB`, 1500 → `1500B` (ids stay exact). */
export function formatSizeBytes(bytes: number): string {
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}MiB`
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}KiB`
  return `${bytes}B`
}

/** A byte count for people, rounded where it is not a whole unit: `8 KiB`, `212.9 KiB`, `4.0 TiB`. */
export function formatBytesApprox(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let i = 0
  let v = bytes
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${bytes} B` : `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`
}

/** Nanoseconds for people: `850 ns`, `12.4 µs`, `3.21 ms`, `1.50 s`. */
export function formatNs(ns: number | undefined): string {
  if (ns === undefined || !Number.isFinite(ns)) return '–'
  if (ns < 1_000) return `${ns.toFixed(0)} ns`
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 2 : 1)} µs`
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(2)} ms`
  return `${(ns / 1_000_000_000).toFixed(2)} s`
}

/** Bytes per second for people: `812 MB/s` (decimal megabytes, as throughput is usually quoted). */
export function formatBytesPerSec(bps: number | undefined): string {
  if (bps === undefined || !Number.isFinite(bps)) return '–'
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)} GB/s`
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps >= 1e8 ? 0 : 1)} MB/s`
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(1)} kB/s`
  return `${bps.toFixed(0)} B/s`
}

/** A count per second for people: `81.2k/s`, `1.25M/s`. */
export function formatRate(perSec: number | undefined): string {
  if (perSec === undefined || !Number.isFinite(perSec)) return '–'
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)}M/s`
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)}k/s`
  return `${perSec.toFixed(0)}/s`
}

/** A ratio as a signed change: 1.123 → `+12.3%`, 0.96 → `-4.0%`, 1 → `+0.0%`. */
export function formatSignedPct(ratio: number): string {
  return `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`
}

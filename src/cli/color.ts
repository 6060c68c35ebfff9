/** Colour only for a terminal, and never under NO_COLOR (https://no-color.org) or --no-color. */
export function useColor(stream: { isTTY?: boolean }): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false
  if (process.argv.includes('--no-color')) return false
  return stream.isTTY === true
}

import type { Mechanism } from './types.js'
import { unixStream } from './unix-stream.js'
import { tcp } from './tcp.js'

/** Every mechanism ipcbench knows, in the order `list` shows them. */
export const MECHANISMS: readonly Mechanism[] = [unixStream, tcp]

export function getMechanism(id: string): Mechanism {
  const m = MECHANISMS.find((x) => x.id === id)
  if (!m) throw new Error(`unknown mechanism "${id}"`)
  return m
}

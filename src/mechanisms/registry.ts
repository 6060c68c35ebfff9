import type { Mechanism } from './types.js'
import { NODE_MECHANISMS } from './node-mechanisms.js'
import { RUNTIME_MECHANISMS } from './runtime-mechanisms.js'
import { NATIVE_MECHANISMS } from './native-mechanisms.js'
import { fake } from './testing/fake.js'

/** Every mechanism ipcbench knows, in the order `list` shows them. */
export const MECHANISMS: readonly Mechanism[] = [...NATIVE_MECHANISMS.filter((m) => m.id === 'pipe'), ...NODE_MECHANISMS, ...NATIVE_MECHANISMS.filter((m) => m.id !== 'pipe'), ...RUNTIME_MECHANISMS, ...(process.env.IPCBENCH_TEST_FAKE === '1' ? [fake] : [])]

export function getMechanism(id: string): Mechanism {
  const m = MECHANISMS.find((x) => x.id === id)
  if (!m) throw new Error(`unknown mechanism "${id}"`)
  return m
}

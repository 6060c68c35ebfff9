import type { MechanismImpl } from '../types.js'
import { tcp } from '../tcp.js'
import { ipcError } from '../../core/errors.js'

/**
 * A mechanism for the harness's own tests (registered only when
 * IPCBENCH_TEST_FAKE=1): a real loopback TCP channel with a failure injected at a
 * chosen step, to exercise every path of the lifecycle without timing noise.
 *   IPCBENCH_FAKE=ok | setup-throws | open-b-throws | b-crashes | b-hangs
 */
type Behaviour = 'ok' | 'setup-throws' | 'open-b-throws' | 'b-crashes' | 'b-hangs'

const behaviour = (): Behaviour => (process.env.IPCBENCH_FAKE ?? 'ok') as Behaviour

const inner = tcp

export const fake: MechanismImpl = {
  async setup(ctx) {
    if (behaviour() === 'setup-throws') throw ipcError('EFAKE', 'fake setup failure', { syscall: 'fake_setup' })
    return inner.setup(ctx)
  },
  async openB(ctx) {
    const b = behaviour()
    if (b === 'open-b-throws') throw ipcError('EFAKE', 'fake open failure in side b')
    const ep = await inner.openB(ctx)
    if (b === 'b-crashes' && ep.kind === 'async') {
      let n = 0
      const on = ep.onMessage.bind(ep)
      ep.onMessage = (cb) => on((m) => (++n === 50 ? process.kill(process.pid, 'SIGKILL') : cb(m)))
    }
    if (b === 'b-hangs' && ep.kind === 'async') {
      let n = 0
      const on = ep.onMessage.bind(ep)
      ep.onMessage = (cb) => on((m) => (++n >= 50 ? undefined : cb(m)))
    }
    return ep
  },
}

import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

// Each test file's runs take a host-wide run lock of their own (src/harness/host/run-lock.ts),
// so that an ipcbench run elsewhere on this host, or a test killing an orchestrator that held
// it, does not turn this file's runs into "concurrent" ones that compare refuses.
const lock = join(tmpdir(), `ipcbench-test-run-lock-${randomUUID()}`)
process.env.IPCBENCH_RUN_LOCK = lock
afterAll(() => rmSync(lock, { force: true }))

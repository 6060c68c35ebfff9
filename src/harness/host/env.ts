import { execFileSync } from 'node:child_process'
import { accessSync, constants, existsSync, readFileSync, statfsSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { PACKAGE_ROOT } from '../../core/paths.js'
import { allowedCpus } from '../../core/proc.js'
import type { ContainerFacts, Environment, HostLimits } from '../../core/result.js'
import { loadNative } from '../../native/index.js'
import { cpuQuota } from './cgroup.js'
import { floorStatus } from './floor-binary.js'
import { readTopology } from './topology.js'

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim())
    return Number.isFinite(n) ? n : undefined
  } catch {
    return undefined
  }
}

/** Kernel limits that decide which sizes a mechanism can carry here. */
export function readLimits(): HostLimits {
  let rlimit: number | 'unlimited' | undefined
  try {
    const m = /^Max msgqueue size\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    if (m) rlimit = m[1] === 'unlimited' ? 'unlimited' : Number(m[1])
  } catch {
    // no /proc
  }
  return {
    pipeMaxSizeBytes: readNumber('/proc/sys/fs/pipe-max-size'),
    mqueue: {
      msgMax: readNumber('/proc/sys/fs/mqueue/msg_max'),
      msgsizeMax: readNumber('/proc/sys/fs/mqueue/msgsize_max'),
      queuesMax: readNumber('/proc/sys/fs/mqueue/queues_max'),
    },
    sysv: {
      msgmax: readNumber('/proc/sys/kernel/msgmax'),
      msgmnb: readNumber('/proc/sys/kernel/msgmnb'),
      msgmni: readNumber('/proc/sys/kernel/msgmni'),
      shmmax: readNumber('/proc/sys/kernel/shmmax'),
    },
    rlimitMsgqueueBytes: rlimit,
    netCore: { wmemMax: readNumber('/proc/sys/net/core/wmem_max'), rmemMax: readNumber('/proc/sys/net/core/rmem_max') },
    ...devShm(),
  }
}

/** The CPU quota and CPU set of this process's cgroup (v2, or v1 on hybrid hosts) and whether /proc/sys is writable. */
export function readContainerFacts(): ContainerFacts {
  let dir: string | undefined
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'))
    if (line) dir = join('/sys/fs/cgroup', line.slice(3))
  } catch {
    // no cgroup v2
  }
  const read = (file: string): string | undefined => {
    for (const d of dir ? [dir, '/sys/fs/cgroup'] : ['/sys/fs/cgroup']) {
      try {
        return readFileSync(join(d, file), 'utf8').trim()
      } catch {
        // not in this cgroup's directory (or no cgroup v2): try the root's
      }
    }
    return undefined
  }
  let procSysWritable = false
  try {
    // A file, not the directory: procfs directories are never writable, even to root.
    accessSync('/proc/sys/fs/mqueue/msgsize_max', constants.W_OK)
    procSysWritable = true
  } catch {
    // read-only
  }
  // cgroup v1 (hybrid hosts) keeps the CPU set in its own hierarchy.
  const v1 = (file: string): string | undefined => {
    try {
      return readFileSync(join('/sys/fs/cgroup', file), 'utf8').trim()
    } catch {
      return undefined
    }
  }
  const quota = cpuQuota()
  const cpusetEffective = read('cpuset.cpus.effective') ?? v1('cpuset/cpuset.effective_cpus')
  return {
    ...(quota ? { cpuMax: quota.cpuMax, cpuQuotaCpus: quota.cpus, cpuQuotaCgroup: quota.cgroup } : {}),
    ...(cpusetEffective ? { cpusetEffective } : {}),
    procSysWritable,
  }
}

function devShm(): Pick<HostLimits, 'devShm'> {
  try {
    const s = statfsSync('/dev/shm')
    return { devShm: { sizeBytes: s.bsize * s.blocks, freeBytes: s.bsize * s.bavail } }
  } catch {
    return {}
  }
}

export function packageVersion(root = PACKAGE_ROOT): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

/** The commit of an ipcbench checkout (this one by default), and whether tracked files changed since. */
export function gitCommit(root = PACKAGE_ROOT): { commit?: string; dirty?: boolean } {
  if (!existsSync(join(root, '.git'))) return {}
  try {
    const commit = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const status = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    return { commit, dirty: status.trim().length > 0 }
  } catch {
    return {}
  }
}

function governor(): string | undefined {
  try {
    return readFileSync('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor', 'utf8').trim()
  } catch {
    return undefined
  }
}

/**
 * Variables the case processes of built-in mechanisms start without (and so their peers):
 * Node 20 reads and parses NODE_EXTRA_CA_CERTS' file at every start, before any of our
 * code (about 50 ms a process on the 2-CPU VM, a fifth of a quick repetition; Node 22 and
 * 24 load it on first use), and no built-in mechanism uses TLS. A custom mechanism's case
 * keeps the whole environment: its transport may.
 */
export const CASE_ENV_UNSET = ['NODE_EXTRA_CA_CERTS'] as const

/** The CASE_ENV_UNSET variables this environment sets that a case process, given `keep` besides, starts without. */
function unsetFor(keep: Record<string, string>): string[] {
  return CASE_ENV_UNSET.filter((name) => process.env[name] !== undefined && !(name in keep))
}

/** The environment of a built-in mechanism's case process: this one's with `keep` added, less CASE_ENV_UNSET unless `keep` sets them. */
export function caseEnvironment(keep: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...keep }
  for (const name of unsetFor(keep)) delete env[name]
  return env
}

/** What a case process (given `keep`) started without, for the result's `env.node`. */
export function caseEnvUnset(keep: Record<string, string> = {}): { caseEnvUnset?: string[] } {
  const unset = unsetFor(keep)
  return unset.length > 0 ? { caseEnvUnset: unset } : {}
}

/** The fingerprint that goes into every result: what moves IPC figures (docs/ARCHITECTURE.md, environment). */
export function captureEnvironment(): Environment {
  const cpus = os.cpus()
  const native = loadNative()
  const floor = floorStatus()
  const allowed = allowedCpus()
  const cpusAllowed = allowed.length > 0 ? allowed : cpus.map((_, i) => i)
  return {
    host: {
      hostname: os.hostname(),
      platform: process.platform,
      arch: process.arch,
      kernel: os.release(),
      cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
      cpuCount: cpus.length,
      cpusAllowed,
      memTotalBytes: os.totalmem(),
      loadAvg: os.loadavg() as [number, number, number],
      ...(governor() ? { governor: governor() } : {}),
      topology: readTopology(cpusAllowed),
    },
    node: {
      version: process.version,
      v8: process.versions.v8,
      libuv: process.versions.uv,
      execPath: process.execPath,
      ...caseEnvUnset(),
    },
    ipcbench: { version: packageVersion(), ...gitCommit() },
    limits: readLimits(),
    container: readContainerFacts(),
    native: {
      addon: native.ok ? { loaded: true, file: native.file, prebuilt: native.prebuilt } : { loaded: false, reason: native.reason },
      floor: floor.ok ? { available: true, path: floor.path, prebuilt: floor.prebuilt } : { available: false, reason: floor.reason },
    },
  }
}

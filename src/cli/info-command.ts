import type { Command } from 'commander'
import Table from 'cli-table3'
import { allMechanisms, customModuleOf } from '../mechanisms/registry.js'
import { addMechanismOption } from './run-setup.js'
import { captureEnvironment } from '../harness/host/env.js'
import { expandMatrix } from '../harness/plan/matrix.js'
import { skipReason } from '../harness/plan/case-plan.js'
import { formatBytesApprox } from '../core/units.js'
import type { Environment } from '../core/result.js'
import { MODES, ENDPOINTS, PATTERNS } from '../core/result.js'

export interface MechanismListing {
  id: string
  family: string
  summary: string
  variants: string[]
  modes: string[]
  endpoints: string[]
  patterns: string[]
  /** Every combination offered: `mode/endpoints/pattern[/variant]`. */
  combinations: string[]
  maxMessageBytes?: number
  maxMessageLimit?: string
  fixedSizeBytes?: number
  available: boolean
  reason?: string
  /** A custom mechanism's module file (`--mechanism`). */
  module?: string
}

export function listMechanisms(env: Environment): MechanismListing[] {
  // The built-ins, and the custom mechanisms `--mechanism` registered.
  return allMechanisms().map((m) => {
    // One-way and load follow from ping-pong and stream (where messages can carry a time): the list shows what the mechanism declares.
    const cases = expandMatrix([m], {
      modes: [...MODES],
      endpoints: [...ENDPOINTS],
      patterns: PATTERNS.filter((p) => p !== 'oneway' && p !== 'load'),
      sizesBytes: { pingpong: [64], stream: [64] },
    })
    const first = cases[0]
    const reason = first ? skipReason({ ...first, sizeBytes: m.fixedSizeBytes ?? 64 }, env) : 'offers no case'
    const limit = m.maxMessage?.(env.limits)
    const custom = customModuleOf(m.id)
    return {
      id: m.id,
      family: m.family,
      summary: m.summary,
      variants: [...(m.variants ?? [])],
      modes: [...new Set(cases.map((c) => c.mode))],
      endpoints: [...new Set(cases.map((c) => c.endpoints))],
      patterns: [...new Set(cases.map((c) => c.pattern))],
      combinations: [...new Set(cases.map((c) => `${c.mode}/${c.endpoints}/${c.pattern}${c.variant ? `/${c.variant}` : ''}`))],
      ...(limit ? { maxMessageBytes: limit.bytes, maxMessageLimit: limit.limit } : {}),
      ...(m.fixedSizeBytes !== undefined ? { fixedSizeBytes: m.fixedSizeBytes } : {}),
      available: reason === undefined,
      ...(reason ? { reason } : {}),
      ...(custom ? { module: custom.path } : {}),
    }
  })
}

export function registerInfoCommands(program: Command): void {
  addMechanismOption(program.command('list').description('every mechanism with its modes, endpoints, patterns, size limit here and availability'))
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      const env = captureEnvironment()
      const listing = listMechanisms(env)
      if (flags.json) {
        process.stdout.write(JSON.stringify(listing, null, 2) + '\n')
        return
      }
      const table = new Table({
        head: ['mechanism', 'modes', 'endpoints', 'patterns', 'max size here', 'available'],
        style: { head: [], border: [] },
      })
      for (const l of listing) {
        const size =
          l.fixedSizeBytes !== undefined
            ? `fixed ${l.fixedSizeBytes} B`
            : l.maxMessageBytes !== undefined
              ? `${formatBytesApprox(l.maxMessageBytes)} (${l.maxMessageLimit})`
              : 'any'
        table.push([
          `${l.id}${l.variants.length ? ` (${l.variants.join(', ')})` : ''}\n${l.summary}`,
          l.modes.join('\n'),
          l.endpoints.join('\n'),
          l.patterns.join('\n'),
          size,
          l.available ? 'yes' : `no: ${l.reason}`,
        ])
      }
      process.stdout.write(table.toString() + '\n' + nativeLines(env).join('\n') + '\n')
    })

  program
    .command('env')
    .description('the environment fingerprint recorded in every result')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      const env = captureEnvironment()
      if (flags.json) {
        process.stdout.write(JSON.stringify(env, null, 2) + '\n')
        return
      }
      const l = env.limits
      const lines = [
        `host        ${env.host.hostname} (${env.host.platform}/${env.host.arch}), kernel ${env.host.kernel}`,
        `cpu         ${env.host.cpuModel} × ${env.host.cpuCount}, allowed ${env.host.cpusAllowed.join(',')}${env.host.governor ? `, governor ${env.host.governor}` : ''}`,
        `load        ${env.host.loadAvg.map((x) => x.toFixed(2)).join(' ')}`,
        `node        ${env.node.version} (V8 ${env.node.v8}, libuv ${env.node.libuv})`,
        `ipcbench    ${env.ipcbench.version}${env.ipcbench.commit ? ` (${env.ipcbench.commit.slice(0, 12)}${env.ipcbench.dirty ? ', modified' : ''})` : ''}`,
        ...nativeLines(env),
        `pipes       pipe-max-size ${l.pipeMaxSizeBytes ?? '?'}`,
        `posix mq    msg_max ${l.mqueue?.msgMax ?? '?'}, msgsize_max ${l.mqueue?.msgsizeMax ?? '?'}, queues_max ${l.mqueue?.queuesMax ?? '?'}, RLIMIT_MSGQUEUE ${l.rlimitMsgqueueBytes ?? '?'}`,
        `sysv        msgmax ${l.sysv?.msgmax ?? '?'}, msgmnb ${l.sysv?.msgmnb ?? '?'}, shmmax ${l.sysv?.shmmax ?? '?'}`,
      ]
      process.stdout.write(lines.join('\n') + '\n')
    })
}

/** The addon and the C floor: which binary (shipped prebuilt, or built on this host), or why there is none. */
function nativeLines(env: Environment): string[] {
  const origin = (prebuilt: boolean | undefined): string => (prebuilt ? 'prebuilt' : 'built from source')
  const { addon, floor } = env.native
  return [
    `addon       ${addon.loaded ? `${origin(addon.prebuilt)} ${addon.file ?? ''}` : `not loaded: ${addon.reason}`}`,
    `C floor     ${floor.available ? `${origin(floor.prebuilt)} ${floor.path ?? ''}` : `missing: ${floor.reason}`}`,
  ]
}

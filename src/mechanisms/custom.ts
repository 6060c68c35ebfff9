import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { errorFields, ipcError, UsageError } from '../core/errors.js'
import {
  ENDPOINTS,
  MODES,
  PAIR_PATTERNS,
  type CaseSpec,
  type Endpoints,
  type HostLimits,
  type MechanismModule,
  type Mode,
  type Pattern,
} from '../core/result.js'
import { formatBytesApprox } from '../core/units.js'
import { MIN_MESSAGE_BYTES } from '../core/wire.js'
import { getMechanism, MECHANISMS, registerCustomMechanism } from './registry.js'
import type { Channel, Endpoint, Family, Mechanism, MechanismImpl, PeerContext, SetupContext, SizeLimit } from './types.js'

/**
 * Custom mechanisms: a user's own transport, measured by the same harness as the
 * built-ins. A module's default export is `defineMechanism({ … })`: the descriptor a
 * built-in has in registry.ts and the `MechanismImpl` it has in its own file, in one
 * object. The orchestrator imports the module for its descriptor (validated here,
 * every rule broken a UsageError naming the module and the rule: exit 2); the case
 * process and its peer import it again by absolute path (`loadImpl`), and what the
 * user's code hands back is checked at the seam, so a broken module errors its case
 * instead of confusing the loops.
 */

/** What a custom module's default export declares: a descriptor and the implementation. */
export interface MechanismDefinition {
  /** Lowercase letters, digits and dashes; not a built-in's id. Part of every case id. */
  id: string
  /** One line for `ipcbench list`. */
  summary?: string
  /** How reports group it (default `runtime`). */
  family?: Family
  /** Each variant is a case of its own (`id:variant/…`); `spec.variant` tells setup which. */
  variants?: readonly string[]
  /** blocking and busy-poll open a `SyncEndpoint`; nonblocking an `AsyncEndpoint`. */
  modes: readonly Mode[]
  endpoints: readonly Endpoints[]
  patterns: readonly Pattern[]
  /** A notification mechanism's one size. */
  fixedSizeBytes?: number
  /** The largest message it carries; larger `--sizes` are skipped with this limit named. */
  maxMessageBytes?: number
  /** A limit that depends on the host (takes precedence over `maxMessageBytes`). */
  maxMessage?(limits: HostLimits): SizeLimit | undefined
  /** Why one case cannot run here; the case is then skipped with the reason. */
  skipCase?(spec: CaseSpec, limits: HostLimits): string | undefined
  /** A built-in mechanism's id (e.g. the Unix stream socket's) whose C floor this is measured against (×C). */
  floor?: string
  /** Creates the objects of one repetition in side a; see `Channel`. */
  setup(ctx: SetupContext): Promise<Channel>
  /** Opens side b's end, in the peer (a child process or a worker thread). */
  openB(ctx: PeerContext): Promise<Endpoint>
}

/** A definition rule broken: names the module and the rule. Exit 2 on the command line. */
export class MechanismDefinitionError extends UsageError {
  override name = 'MechanismDefinitionError'
  constructor(
    readonly module: string,
    readonly rule: string,
  ) {
    super(`custom mechanism ${module}: ${rule}`)
  }
}

/** A module loaded for its descriptor: the mechanism as the harness sees it and what the result records of it. */
export interface LoadedMechanism {
  mechanism: Mechanism
  module: MechanismModule
}

const ID = /^[a-z][a-z0-9-]{0,39}$/
const VARIANT = /^[a-z0-9][a-z0-9-]{0,39}$/
const FAMILIES: readonly Family[] = ['fd', 'socket', 'shared-memory', 'message-queue', 'signal', 'runtime']
const MAX_SIZE_BYTES = 64 * 1024 * 1024
const FIELDS = new Set([
  'id',
  'summary',
  'family',
  'variants',
  'modes',
  'endpoints',
  'patterns',
  'fixedSizeBytes',
  'maxMessageBytes',
  'maxMessage',
  'skipCase',
  'floor',
  'setup',
  'openB',
])

/**
 * Declares a custom mechanism: `export default defineMechanism({ … })`. Checks the
 * definition at once (a broken rule throws, naming it) and returns it frozen.
 */
export function defineMechanism<T extends MechanismDefinition>(definition: T): Readonly<T> {
  checkDefinition(definition, 'defineMechanism()')
  return Object.freeze({ ...definition })
}

/** Every rule a definition must keep, checked where it is loaded and again in each case process. */
function checkDefinition(value: unknown, where: string): MechanismDefinition {
  const fail = (rule: string): never => {
    throw new MechanismDefinitionError(where, rule)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(
      `the default export is ${describeValue(value)}, not a mechanism definition (export default defineMechanism({ id, modes, endpoints, patterns, setup, openB }))`,
    )
  const d = value as Record<string, unknown>
  for (const key of Object.keys(d)) if (!FIELDS.has(key)) fail(`unknown field "${key}" (a definition has ${[...FIELDS].join(', ')})`)
  if (typeof d.id !== 'string' || !ID.test(d.id))
    fail(`id: ${JSON.stringify(d.id)} is not an id (lowercase letters, digits and dashes, starting with a letter, at most 40)`)
  for (const key of ['summary', 'floor'] as const)
    if (d[key] !== undefined && typeof d[key] !== 'string') fail(`${key}: must be a string, not ${describeValue(d[key])}`)
  if (d.family !== undefined && !FAMILIES.includes(d.family as Family))
    fail(`family: ${JSON.stringify(d.family)} is not one of ${FAMILIES.join(', ')}`)
  checkList(d.modes, 'modes', MODES, fail)
  checkList(d.endpoints, 'endpoints', ENDPOINTS, fail)
  // Between one pair of sides: fan-in is a built-in's capability of its own, not a pattern a custom seam can offer.
  checkList(d.patterns, 'patterns', PAIR_PATTERNS, fail)
  if (d.variants !== undefined) {
    if (!Array.isArray(d.variants) || d.variants.length === 0) fail('variants: must be a non-empty array of names when given')
    for (const v of d.variants as unknown[])
      if (typeof v !== 'string' || !VARIANT.test(v)) fail(`variants: ${JSON.stringify(v)} is not a name (lowercase letters, digits, dashes)`)
    if (new Set(d.variants as string[]).size !== (d.variants as string[]).length) fail('variants: a name appears twice')
  }
  for (const key of ['fixedSizeBytes', 'maxMessageBytes'] as const) {
    const n = d[key]
    if (n === undefined) continue
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_SIZE_BYTES)
      fail(`${key}: ${String(n)} is not a whole number of bytes in 0..${MAX_SIZE_BYTES}`)
  }
  if (typeof d.maxMessageBytes === 'number' && d.maxMessageBytes < MIN_MESSAGE_BYTES)
    fail(
      `maxMessageBytes: ${d.maxMessageBytes} is below the ${MIN_MESSAGE_BYTES}-byte message every case needs (each carries its sequence number), so no case could run`,
    )
  if (typeof d.fixedSizeBytes === 'number' && typeof d.maxMessageBytes === 'number' && d.fixedSizeBytes > d.maxMessageBytes)
    fail(`fixedSizeBytes ${d.fixedSizeBytes} exceeds maxMessageBytes ${d.maxMessageBytes}, so no case could run`)
  for (const key of ['setup', 'openB'] as const) if (typeof d[key] !== 'function') fail(`${key}: must be a function, not ${describeValue(d[key])}`)
  for (const key of ['maxMessage', 'skipCase'] as const)
    if (d[key] !== undefined && typeof d[key] !== 'function') fail(`${key}: must be a function when given, not ${describeValue(d[key])}`)
  return d as unknown as MechanismDefinition
}

function checkList(value: unknown, key: string, allowed: readonly string[], fail: (rule: string) => never): void {
  if (!Array.isArray(value) || value.length === 0) fail(`${key}: must be a non-empty array of ${allowed.join(', ')} (an empty one offers no case)`)
  const list = value as unknown[]
  for (const v of list) if (!allowed.includes(v as string)) fail(`${key}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`)
  if (new Set(list).size !== list.length) fail(`${key}: a value appears twice`)
}

const describeValue = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : v === undefined ? 'missing' : typeof v === 'function' ? 'a function' : `a ${typeof v}`

/**
 * Loads a module for its descriptor, in the orchestrator (and `ipcbench list`):
 * resolved against `cwd`, hashed, imported, its default export checked, its id kept
 * clear of the built-ins', its floor resolved to that built-in's C floor.
 */
export async function loadMechanismModule(spec: string, cwd = process.cwd()): Promise<LoadedMechanism> {
  const path = spec.startsWith('file:') ? fileURLToPath(spec) : resolve(cwd, spec)
  const shown = showPath(path, cwd)
  const fail = (rule: string): never => {
    throw new MechanismDefinitionError(shown, rule)
  }
  if (!existsSync(path)) fail(`no such file (${path}); give the path of a module whose default export is defineMechanism({ … })`)
  if (statSync(path).isDirectory()) fail(`${path} is a directory; give the module file itself (e.g. ${join(spec, 'index.js')})`)
  const sha256 = hashFile(path)
  const def = checkDefinition(await importDefault(path, fail), shown)
  const builtIn = MECHANISMS.find((m) => m.id === def.id)
  if (builtIn) fail(`id "${def.id}" is a built-in mechanism's (${builtIn.summary}); give yours an id of its own`)
  const module: MechanismModule = { id: def.id, path, sha256, ...packageOf(path) }
  return { mechanism: descriptor(def, path, fail), module }
}

/**
 * Loads every module of a run (`--mechanism`, repeatable) and registers each for it,
 * so planning, `list` and the C floor find it by id like a built-in.
 */
export async function loadCustomMechanisms(specs: readonly string[], cwd = process.cwd()): Promise<LoadedMechanism[]> {
  const loaded: LoadedMechanism[] = []
  for (const spec of specs) {
    const l = await loadMechanismModule(spec, cwd)
    const twin = loaded.find((x) => x.mechanism.id === l.mechanism.id)
    if (twin && twin.module.path !== l.module.path)
      throw new MechanismDefinitionError(
        showPath(l.module.path, cwd),
        `declares id "${l.mechanism.id}", as ${showPath(twin.module.path, cwd)} does; one run measures one module per id (to compare two versions, use ipcbench ab --base-mechanism)`,
      )
    if (!twin) loaded.push(l)
  }
  for (const l of loaded) registerCustomMechanism(l.mechanism, l.module)
  return loaded
}

/** The implementation a case process or its peer runs: a built-in's, or the custom module's at `module`. */
export async function loadImpl(id: string, module?: { path: string; sha256?: string }): Promise<MechanismImpl> {
  if (!module) return getMechanism(id).load()
  if (module.sha256 !== undefined && hashFile(module.path) !== module.sha256)
    throw ipcError(
      'EMODCHANGED',
      `${module.path} changed after the run loaded it (its sha256 differs); run again with the version you mean to measure`,
    )
  const def = checkDefinition(
    await importDefault(module.path, (rule) => {
      throw new MechanismDefinitionError(module.path, rule)
    }),
    module.path,
  )
  if (def.id !== id) throw new MechanismDefinitionError(module.path, `now declares id "${def.id}", not "${id}" as when the run loaded it`)
  return guarded(def)
}

async function importDefault(path: string, fail: (rule: string) => never): Promise<unknown> {
  let ns: Record<string, unknown>
  try {
    ns = (await import(pathToFileURL(path).href)) as Record<string, unknown>
  } catch (err) {
    if (err instanceof MechanismDefinitionError) return fail(err.rule)
    return fail(`failed to load (${firstLine(errorFields(err).message)})`)
  }
  if (!('default' in ns) || ns.default === undefined) {
    const names = Object.keys(ns)
    return fail(`has no default export${names.length ? ` (it exports ${names.join(', ')})` : ''}; write export default defineMechanism({ … })`)
  }
  return ns.default
}

/** The descriptor the harness plans with: the user's functions guarded so a throw skips one case, not the run. */
function descriptor(def: MechanismDefinition, path: string, fail: (rule: string) => never): Mechanism {
  let floor: Mechanism['floor'] = { none: `${def.id} is a custom mechanism that names no built-in as its floor` }
  if (def.floor !== undefined) {
    const builtIn = MECHANISMS.find((m) => m.id === def.floor)
    if (!builtIn) fail(`floor: "${def.floor}" is not a built-in mechanism (one of ${MECHANISMS.map((m) => m.id).join(', ')})`)
    if ('none' in builtIn!.floor) fail(`floor: "${def.floor}" has no C floor (${builtIn!.floor.none}); name another or leave floor out`)
    floor = builtIn!.floor
  }
  const maxBytes = def.maxMessageBytes
  const fixed: SizeLimit | undefined =
    maxBytes === undefined
      ? undefined
      : { bytes: maxBytes, limit: `${def.id}'s maxMessageBytes (${maxBytes})`, fix: `use --sizes ≤ ${formatBytesApprox(maxBytes)}` }
  const maxMessage = def.maxMessage
  const skipCase = def.skipCase
  return {
    id: def.id,
    family: def.family ?? 'runtime',
    summary: def.summary ?? `custom mechanism from ${path}`,
    ...(def.variants ? { variants: [...def.variants] } : {}),
    modes: [...def.modes],
    endpoints: [...def.endpoints],
    patterns: [...def.patterns],
    ...(def.fixedSizeBytes !== undefined ? { fixedSizeBytes: def.fixedSizeBytes } : {}),
    native: false,
    ...(maxMessage || fixed
      ? {
          maxMessage: (limits: HostLimits) => {
            if (!maxMessage) return fixed
            try {
              return maxMessage(limits) ?? fixed
            } catch (err) {
              // The size limit is unknowable, so every size is refused: planning cannot error a case.
              return { bytes: 0, limit: `${def.id}'s maxMessage(), which threw (${firstLine(errorFields(err).message)})`, fix: 'fix the module' }
            }
          },
        }
      : {}),
    ...(skipCase
      ? {
          skipCase: (spec: CaseSpec, limits: HostLimits) => {
            try {
              return skipCase(spec, limits)
            } catch (err) {
              return `its skipCase() threw (${firstLine(errorFields(err).message)}); fix the module`
            }
          },
        }
      : {}),
    floor,
    load: async () => guarded(def),
  }
}

/**
 * The user's implementation with the seam's contract checked where its values come
 * back: setup returns a Channel, each open an endpoint of the kind its mode needs
 * (the loops pick their path by the endpoint's kind, so an event-loop endpoint in a
 * blocking case would be measured under the wrong name), describe plain strings, and
 * teardown runs once. A failure is an error with a code, and its case is errored.
 */
function guarded(def: MechanismDefinition): MechanismImpl {
  return {
    async setup(ctx) {
      const ch = (await call(() => def.setup(ctx), def.id, 'setup()')) as Partial<Channel> | undefined
      if (typeof ch !== 'object' || ch === null)
        throw ipcError('ECHANNEL', `${def.id}: setup() returned ${describeValue(ch)}, not a Channel ({ peer, openA, describe, teardown })`)
      for (const key of ['openA', 'describe', 'teardown'] as const)
        if (typeof ch[key] !== 'function') throw ipcError('ECHANNEL', `${def.id}: the Channel from setup() has no ${key}() function`)
      if (typeof ch.peer !== 'object' || ch.peer === null)
        throw ipcError('ECHANNEL', `${def.id}: the Channel from setup() has no peer handoff ({ info })`)
      let torn: Promise<void> | undefined
      const channel = ch as Channel
      return {
        peer: channel.peer,
        openA: async (link) => checkEndpoint(await call(() => channel.openA(link), def.id, 'openA()'), ctx.spec, def.id, 'openA()'),
        describe: () => {
          const d = channel.describe()
          return Object.fromEntries(Object.entries(typeof d === 'object' && d !== null ? d : {}).map(([k, v]) => [k, String(v)]))
        },
        teardown: () => (torn ??= Promise.resolve().then(() => channel.teardown())),
      }
    },
    openB: async (ctx) => checkEndpoint(await call(() => def.openB(ctx), def.id, 'openB()'), ctx.spec, def.id, 'openB()'),
  }
}

/**
 * Calls the user's function; what it throws (or rejects with) is said to come from it,
 * with its code, errno and syscall kept (a call the host refuses still skips its case).
 */
function call<T>(fn: () => T | Promise<T>, id: string, what: string): Promise<T> {
  return Promise.resolve()
    .then(fn)
    .catch((err: unknown) => {
      const { message, code, errno, syscall } = errorFields(err)
      throw Object.assign(new Error(`${id}: ${what} threw: ${message}`), { code, errno, syscall })
    })
}

const SYNC_METHODS = ['send', 'recv', 'close'] as const
const ASYNC_METHODS = ['send', 'onMessage', 'onDrain', 'onError', 'close'] as const

function checkEndpoint(ep: unknown, spec: CaseSpec, id: string, from: string): Endpoint {
  const want = spec.mode === 'nonblocking' ? 'async' : 'sync'
  const e = ep as Partial<Record<string, unknown>> | undefined
  if (typeof e !== 'object' || e === null) throw ipcError('EENDPOINT', `${id}: ${from} returned ${describeValue(ep)}, not an endpoint`)
  if (e.kind !== want) {
    const why = want === 'sync' ? 'blocking and busy-poll need a SyncEndpoint (kind "sync")' : 'nonblocking needs an AsyncEndpoint (kind "async")'
    throw ipcError('EENDPOINT', `${id}: ${from} returned an endpoint of kind ${JSON.stringify(e.kind)} in ${spec.mode} mode; ${why}`)
  }
  for (const m of want === 'sync' ? SYNC_METHODS : ASYNC_METHODS)
    if (typeof e[m] !== 'function') throw ipcError('EENDPOINT', `${id}: the ${want} endpoint from ${from} has no ${m}() function`)
  return ep as Endpoint
}

function hashFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** The nearest package.json at or above the module's folder: whose code it is. */
function packageOf(path: string): Pick<MechanismModule, 'packageName' | 'packageVersion'> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg)) {
      try {
        const { name, version } = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown; version?: unknown }
        return { ...(typeof name === 'string' ? { packageName: name } : {}), ...(typeof version === 'string' ? { packageVersion: version } : {}) }
      } catch {
        return {}
      }
    }
    if (dirname(dir) === dir) return {}
  }
}

function showPath(path: string, cwd: string): string {
  const rel = relative(cwd, path)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

const firstLine = (s: string): string => s.split('\n')[0].slice(0, 300)

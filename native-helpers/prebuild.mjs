#!/usr/bin/env node
// Builds the binaries the package ships in native-helpers/prebuilds/ (`npm pack` runs this
// as prepack), so that an install needs neither a compiler nor its install script:
//
//   linux-x64/ipcbench_native.napi.glibc.node    the addon (N-API 8: one file serves every Node ≥ 20.19)
//   linux-arm64/ipcbench_native.napi.glibc.node  the same, cross-built with aarch64-linux-gnu-g++
//   linux-x64/ipcbench_native.napi.musl.node     the same against musl (see buildMuslAddon: how, and its limits)
//   linux-x64/ipcfloor, linux-arm64/ipcfloor     the C floor, linked statically: runs on glibc and musl alike
//
// node-gyp-build picks the addon by platform, arch and libc at run time, after a build from
// source (native-helpers/build/Release) if there is one; src/harness/host/floor-binary.ts
// does the same for the floor. Each file is checked here before it is kept: its ELF machine,
// and on this host (or under qemu-user when it is installed) that it loads or runs.
//
//   npm run prebuilds, or node native-helpers/prebuild.mjs [--host-only] [--out DIR]
//
// --host-only (or IPCBENCH_PREBUILDS=host) builds only what this host runs (the install
// test uses it); --out writes elsewhere than native-helpers/prebuilds. The output folder
// is replaced whole, and only once every file in it is built and checked. Needs, on
// Debian: g++ make python3, and for the other targets gcc-aarch64-linux-gnu
// g++-aarch64-linux-gnu musl-tools (qemu-user-static to run the arm64 floor).
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  closeSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { arch as hostArch, tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findNodeGyp, gist, nodeDir } from './toolchain.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..')
const ADDON_FILE = 'ipcbench_native'

/** GNU triplet names and ELF e_machine of the CPUs built for. */
const CPU = {
  x64: { gnu: 'x86_64', elfMachine: 62, qemu: 'qemu-x86_64' },
  arm64: { gnu: 'aarch64', elfMachine: 183, qemu: 'qemu-aarch64' },
}
const ADDONS = [
  { arch: 'x64', libc: 'glibc' },
  { arch: 'arm64', libc: 'glibc' },
  { arch: 'x64', libc: 'musl' },
]
const FLOORS = [{ arch: 'x64' }, { arch: 'arm64' }]
const APT_HINT = 'apt-get install g++ make python3 gcc-aarch64-linux-gnu g++-aarch64-linux-gnu musl-tools'

function parseArgs(argv) {
  // IPCBENCH_PREBUILDS=host: the same as --host-only, for a pack on a host without the cross compilers.
  const opts = { hostOnly: process.env.IPCBENCH_PREBUILDS === 'host', out: join(HERE, 'prebuilds') }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--host-only') opts.hostOnly = true
    else if (argv[i] === '--out' && argv[i + 1]) opts.out = resolve(argv[++i])
    else fail(`prebuild: unknown argument "${argv[i]}" (use --host-only, --out DIR)`)
  }
  return opts
}

function fail(message) {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

/** musl when this Node's ELF interpreter is musl's loader (Alpine, Void musl, …). */
function hostLibc() {
  const fd = openSync(process.execPath, 'r')
  const head = Buffer.alloc(4096)
  readSync(fd, head, 0, head.length, 0)
  closeSync(fd)
  return head.includes('/ld-musl-') ? 'musl' : 'glibc'
}

/** The tool prefix for `arch` on this host: none for the host's own CPU. */
function prefixFor(arch) {
  return arch === hostArch() ? '' : `${CPU[arch].gnu}-linux-gnu-`
}

function onPath(tool) {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, tool)))
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options })
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error?.message ?? ''}`
    throw new Error(`${cmd} ${args.slice(0, 3).join(' ')}… failed: ${gist(out)}`)
  }
  return r.stdout
}

/** The ELF class and machine of a built file, so a cross build can never ship the host's binary. */
function checkElf(path, arch) {
  const fd = openSync(path, 'r')
  const head = Buffer.alloc(20)
  readSync(fd, head, 0, 20, 0)
  closeSync(fd)
  const isElf64 = head.readUInt32BE(0) === 0x7f454c46 && head[4] === 2
  const machine = head.readUInt16LE(18)
  if (!isElf64 || machine !== CPU[arch].elfMachine) throw new Error(`${path}: not a 64-bit ELF file for ${arch} (e_machine ${machine})`)
}

/** A host-runnable command line for a binary of `arch`, or undefined when neither the host nor qemu-user runs it. */
function runnerFor(arch) {
  if (arch === hostArch()) return []
  for (const q of [CPU[arch].qemu, `${CPU[arch].qemu}-static`]) if (onPath(q)) return [q]
  return undefined
}

/** The addon through node-gyp in a scratch copy of the sources, so the tree's own build/ stays as it was. */
function buildGlibcAddon(target, work) {
  const gyp = findNodeGyp()
  if (!gyp) throw new Error('node-gyp not found (it ships with npm)')
  const dir = join(work, `addon-${target.arch}-${target.libc}`, 'native-helpers')
  mkdirSync(dir, { recursive: true })
  copyFileSync(join(HERE, 'binding.gyp'), join(dir, 'binding.gyp'))
  cpSync(join(HERE, 'addon'), join(dir, 'addon'), { recursive: true })
  // binding.gyp asks node for node-addon-api's include dir, resolved from the copy's parent.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, '..', 'node_modules'))
  const p = prefixFor(target.arch)
  const env = { ...process.env, CC: `${p}gcc`, CXX: `${p}g++`, LINK: `${p}g++`, AR: `${p}ar` }
  const nodedir = nodeDir()
  run(process.execPath, [gyp, 'rebuild', `--arch=${target.arch}`, '--directory', dir, ...(nodedir ? [`--nodedir=${nodedir}`] : [])], { env })
  const built = join(dir, 'build', 'Release', `${ADDON_FILE}.node`)
  run(`${p}strip`, ['--strip-unneeded', built])
  return built
}

/**
 * Debian has no musl C++ toolchain: musl-tools brings the C library and a C-only wrapper
 * (musl-gcc), and the one libstdc++ there is configured and built for glibc. So this
 * compiles with g++ against musl's C headers plus those libstdc++ headers (with what they
 * assume of glibc switched off: __GLIBC_PREREQ, __locale_t, the pthread_*clock* calls),
 * links libstdc++ and libgcc statically and musl's libc dynamically, and defines in the
 * module the four glibc-only symbols that Debian's libstdc++.a and libgcc_eh.a refer to
 * (MUSL_SHIM). checkMuslSymbols then proves every other symbol it needs is one musl's
 * libc exports, and loadUnderMusl that musl's loader loads it; what cannot be done here
 * is to load it into a musl Node (none can be installed from Debian or npm).
 */
function buildMuslAddon(target, work) {
  if (hostArch() !== 'x64') throw new Error('the musl addon is built on an x64 host only (Debian musl-dev for x86_64)')
  const musl = '/usr/lib/x86_64-linux-musl'
  const muslInclude = '/usr/include/x86_64-linux-musl'
  if (!existsSync(join(musl, 'libc.so')) || !existsSync(muslInclude)) throw new Error(`musl not found in ${musl} (${APT_HINT})`)
  const dir = join(work, 'addon-x64-musl')
  mkdirSync(join(dir, 'wrap', 'bits'), { recursive: true })
  mkdirSync(join(dir, 'kernel'), { recursive: true })
  // musl-dev has no kernel headers; Debian's are libc-neutral.
  for (const [name, to] of [
    ['linux', '/usr/include/linux'],
    ['asm', '/usr/include/x86_64-linux-gnu/asm'],
    ['asm-generic', '/usr/include/asm-generic'],
  ])
    symlinkSync(to, join(dir, 'kernel', name))
  // libstdc++'s config header says glibc has pthread_*_clock*; musl 1.2.3 does not.
  writeFileSync(
    join(dir, 'wrap', 'bits', 'c++config.h'),
    '#include_next <bits/c++config.h>\n#undef _GLIBCXX_USE_PTHREAD_COND_CLOCKWAIT\n#undef _GLIBCXX_USE_PTHREAD_MUTEX_CLOCKLOCK\n#undef _GLIBCXX_USE_PTHREAD_RWLOCK_CLOCKLOCK\n',
  )
  writeFileSync(join(dir, 'shim.c'), MUSL_SHIM)
  const gccLib = dirname(run('g++', ['-print-libgcc-file-name']).trim())
  const cxxDirs = cxxIncludeDirs()
  const configDir = cxxDirs.findIndex((d) => existsSync(join(d, 'bits', 'c++config.h')))
  if (configDir < 0) throw new Error('libstdc++ headers (bits/c++config.h) not found')
  cxxDirs.splice(configDir, 0, join(dir, 'wrap'))
  const include = [...cxxDirs, join(gccLib, 'include'), muslInclude, join(dir, 'kernel')].flatMap((d) => ['-isystem', d])
  const nodeInclude = join(nodeDir() ?? '/usr', 'include', 'node')
  const addonApi = run(process.execPath, ['-p', "require('node-addon-api').include_dir"], { cwd: ROOT }).trim()
  run('g++', [
    '-nostdinc',
    ...include,
    '-D__GLIBC_PREREQ(a,b)=0',
    '-D__locale_t=locale_t',
    ...['-fPIC', '-O2', '-Wall', '-std=gnu++17', '-fno-rtti', '-fno-exceptions', '-fvisibility=hidden'],
    ...['-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DBUILDING_NODE_EXTENSION', '-DNDEBUG'],
    ...['-I', nodeInclude, '-I', join(ROOT, addonApi)],
    ...['-c', join(HERE, 'addon', 'addon.cc'), '-o', join(dir, 'addon.o')],
  ])
  run('musl-gcc', ['-fPIC', '-O2', '-Wall', '-fvisibility=hidden', '-c', join(dir, 'shim.c'), '-o', join(dir, 'shim.o')])
  const out = join(dir, `${ADDON_FILE}.node`)
  run('g++', [
    ...['-shared', '-nostdlib', '-o', out, '-Wl,--exclude-libs,ALL', '-Wl,-z,now'],
    ...[join(musl, 'crti.o'), join(gccLib, 'crtbeginS.o'), join(dir, 'addon.o'), join(dir, 'shim.o')],
    ...['-Wl,-Bstatic', '-lstdc++', '-Wl,-Bdynamic', `-L${musl}`, '-lc'],
    ...[join(gccLib, 'libgcc.a'), join(gccLib, 'libgcc_eh.a'), join(gccLib, 'crtendS.o'), join(musl, 'crtn.o')],
  ])
  run('strip', ['--strip-unneeded', out])
  checkMuslSymbols(out, join(musl, 'libc.so'))
  return out
}

/** libstdc++'s include directories as g++ searches them (the C ones are musl's instead). */
function cxxIncludeDirs() {
  const r = spawnSync('g++', ['-E', '-x', 'c++', '-', '-v'], { input: '', encoding: 'utf8' })
  const text = r.stderr ?? ''
  const list = text.slice(text.indexOf('#include <...> search starts here:'), text.indexOf('End of search list.'))
  return list
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((d) => /\/c\+\+\//.test(d))
}

/** Every symbol the module needs from its host, other than N-API's and libuv's, is one musl's libc exports. */
function checkMuslSymbols(module, libc) {
  const needed = run('nm', ['-D', '--undefined-only', module])
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([kind, name]) => kind === 'U' && name && !/^(napi_|node_api_|uv_)/.test(name))
    .map(([, name]) => name)
  const exported = new Set(
    run('nm', ['-D', '--defined-only', libc])
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[2])
      .filter(Boolean),
  )
  const missing = needed.filter((s) => !exported.has(s))
  if (missing.length) throw new Error(`the musl addon needs symbols musl's libc lacks: ${missing.join(', ')}`)
}

/** The glibc-only symbols Debian's libstdc++.a and libgcc_eh.a refer to, defined in the musl module itself (hidden). */
const MUSL_SHIM = `/* See buildMuslAddon in prebuild.mjs. */
#define _GNU_SOURCE
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* 0: "other threads may exist", so libstdc++ always takes its atomic paths: correct everywhere. */
char __libc_single_threaded = 0;

uint32_t arc4random(void) {
  uint32_t v = 0;
  if (getentropy(&v, sizeof v) != 0) abort();
  return v;
}

/* thread_local destructors (the addon's per-thread scratch vectors): run at thread exit,
   last registered first, through a pthread key, as glibc's own implementation does. */
struct dtor { void (*fn)(void *); void *obj; struct dtor *next; };
static pthread_key_t dtor_key;
static pthread_once_t dtor_once = PTHREAD_ONCE_INIT;

static void run_dtors(void *head) {
  for (struct dtor *d = head; d;) {
    struct dtor *next = d->next;
    d->fn(d->obj);
    free(d);
    d = next;
  }
}

static void make_key(void) { pthread_key_create(&dtor_key, run_dtors); }

/* GCC 12's unwinder (libgcc_eh.a) finds a frame's unwind table with glibc 2.35's
   _dl_find_object; musl has only dl_iterate_phdr, so this answers from it. The layout is
   glibc's for x86_64 (no eh_dbase). */
struct dl_find_object {
  unsigned long long dlfo_flags;
  void *dlfo_map_start;
  void *dlfo_map_end;
  void *dlfo_link_map;
  void *dlfo_eh_frame;
  unsigned long long reserved[7];
};

struct lookup { uintptr_t pc; struct dl_find_object *out; };

static int find_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct lookup *l = data;
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  void *eh = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD) {
      if (start < lo) lo = start;
      if (start + ph->p_memsz > hi) hi = start + ph->p_memsz;
    } else if (ph->p_type == PT_GNU_EH_FRAME) {
      eh = (void *)start;
    }
  }
  if (l->pc < lo || l->pc >= hi) return 0;
  l->out->dlfo_flags = 0;
  l->out->dlfo_map_start = (void *)lo;
  l->out->dlfo_map_end = (void *)hi;
  l->out->dlfo_link_map = 0;
  l->out->dlfo_eh_frame = eh;
  return 1;
}

int _dl_find_object(void *pc, struct dl_find_object *out) {
  struct lookup l = { (uintptr_t)pc, out };
  return dl_iterate_phdr(find_object, &l) ? 0 : -1;
}

int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso) {
  (void)dso;
  pthread_once(&dtor_once, make_key);
  struct dtor *d = malloc(sizeof *d);
  if (!d) return -1;
  d->fn = fn;
  d->obj = obj;
  d->next = pthread_getspecific(dtor_key);
  return pthread_setspecific(dtor_key, d);
}
`

function buildFloor(target, work) {
  const out = join(work, `floor-${target.arch}`, 'ipcfloor')
  mkdirSync(dirname(out), { recursive: true })
  run('make', ['-s', '-C', join(HERE, 'floor'), `OUT=${out}`, `CC=${prefixFor(target.arch)}gcc`, 'LDFLAGS=-static -s'])
  return out
}

/** What can be run of it here: the host's addon is loaded by this Node, a floor answers --list. */
function verify(kind, target, file) {
  checkElf(file, target.arch)
  const runner = runnerFor(target.arch)
  if (kind === 'floor') {
    if (!runner) return 'ELF checked; not run (no qemu-user for it)'
    const list = run(runner[0] ?? file, [...(runner.length ? [file] : []), '--list'])
    if (!/^pipe /m.test(list)) throw new Error(`${file} --list printed no pipe line`)
    return runner.length ? `ran under ${runner[0]}` : 'ran'
  }
  if (target.libc === 'musl' && hostLibc() === 'glibc' && target.arch === hostArch()) return loadUnderMusl(file)
  if (target.arch !== hostArch() || target.libc !== hostLibc()) return 'ELF checked; not loaded (not this host)'
  run(process.execPath, ['-e', `const m = require(${JSON.stringify(file)}); if (typeof m.pipe2 !== 'function') process.exit(3)`])
  return `loaded by Node ${process.version}`
}

/**
 * No musl Node can be had here, so musl's own dynamic loader loads the module into a small
 * musl program that stands in for Node: it exports every N-API and libuv function the
 * module calls (as stubs that are never called: only loading is checked), dlopens it with
 * RTLD_NOW, which resolves every symbol and runs its constructors, and finds its entry point.
 */
function loadUnderMusl(file) {
  const dir = mkdtempSync(join(tmpdir(), 'ipcbench-musl-check-'))
  try {
    const hostSymbols = run('nm', ['-D', '--undefined-only', file])
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[1])
      .filter((name) => name && /^(napi_|node_api_|uv_)/.test(name))
    const stubs = hostSymbols.map((name) => `int ${name}(void) { return 1; }`).join('\n')
    const host = `#include <dlfcn.h>
#include <stdio.h>
${stubs}
int main(int argc, char **argv) {
  void *m = dlopen(argv[1], RTLD_NOW);
  if (!m) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
  if (!dlsym(m, "napi_register_module_v1")) { fprintf(stderr, "no napi_register_module_v1\\n"); return 2; }
  return 0;
}
`
    writeFileSync(join(dir, 'host.c'), host)
    run('musl-gcc', ['-rdynamic', '-o', join(dir, 'host'), join(dir, 'host.c')])
    run(join(dir, 'host'), [file])
    return `loaded by musl's dynamic loader, N-API stubbed (${hostSymbols.length} functions)`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Copies a checked file into the staging folder; returns its line for the summary. */
function keep(stage, built, relative, how) {
  const dest = join(stage, relative)
  mkdirSync(dirname(dest), { recursive: true })
  copyFileSync(built, dest)
  chmodSync(dest, 0o755)
  return `${relative} (${how})`
}

function main() {
  const opts = parseArgs(process.argv.slice(2))
  const addons = opts.hostOnly ? ADDONS.filter((t) => t.arch === hostArch() && t.libc === hostLibc()) : ADDONS
  const floors = opts.hostOnly ? FLOORS.filter((t) => t.arch === hostArch()) : FLOORS
  if (addons.length === 0 && floors.length === 0) fail(`prebuild: nothing is built for linux-${hostArch()} (${hostLibc()})`)

  const tools = new Set(['make', 'python3', 'nm', 'strip'])
  for (const t of [...addons, ...floors]) {
    const p = prefixFor(t.arch)
    for (const tool of ['gcc', 'g++', 'strip']) tools.add(`${p}${tool}`)
    if (t.libc === 'musl') tools.add('musl-gcc')
  }
  const missing = [...tools].filter((t) => !onPath(t))
  if (missing.length) fail(`prebuild: not on PATH: ${missing.join(', ')}. On Debian: ${APT_HINT} (or --host-only)`)

  const work = mkdtempSync(join(tmpdir(), 'ipcbench-prebuild-'))
  const stage = join(work, 'prebuilds')
  const made = []
  let error
  try {
    for (const t of addons) {
      const built = t.libc === 'musl' ? buildMuslAddon(t, work) : buildGlibcAddon(t, work)
      made.push(keep(stage, built, join(`linux-${t.arch}`, `${ADDON_FILE}.napi.${t.libc}.node`), verify('addon', t, built)))
    }
    for (const t of floors) {
      const built = buildFloor(t, work)
      made.push(keep(stage, built, join(`linux-${t.arch}`, 'ipcfloor'), verify('floor', t, built)))
    }
    rmSync(opts.out, { recursive: true, force: true })
    cpSync(stage, opts.out, { recursive: true })
    for (const line of made) process.stderr.write(`prebuild: ${join(opts.out, line)}\n`)
  } catch (err) {
    error = err
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  if (error) fail(`prebuild: ${error.message}`)
}

main()

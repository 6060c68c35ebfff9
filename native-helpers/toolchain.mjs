// What build.mjs (at install) and prebuild.mjs (before a pack) share: where node-gyp
// and Node's headers are, and the gist of a failed build's output.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** node-gyp ships inside npm; npm tells a lifecycle script where, the paths cover a plain `node` run. */
export function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ]
  return candidates.find((c) => c && existsSync(c))
}

/**
 * Offline, node-gyp must build against headers already on the host (it would otherwise
 * download them). The N-API headers do not change with the Node version that runs the
 * build, so any installed set serves every target.
 */
export function nodeDir() {
  return process.env.npm_config_nodedir || (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined)
}

export function gist(text) {
  const lines = text.split('\n').filter((l) => /error|not found|No such|fatal/i.test(l))
  return (lines.slice(-4).join(' | ') || text.trim().split('\n').slice(-3).join(' | ')).slice(0, 500)
}

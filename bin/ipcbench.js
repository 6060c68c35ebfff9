#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm install` through the prepare script).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('Error: ipcbench is not built (dist/cli.js is missing); run "npm install" or "npm run build" in the package folder\n')
  process.exit(1)
}
await import(cli.href)

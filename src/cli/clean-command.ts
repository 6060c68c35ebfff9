import type { Command } from 'commander'
import { cleanStale } from '../harness/host/cleanup.js'

export function registerCleanCommand(program: Command): void {
  program
    .command('clean')
    .description("remove shared memory, queues, FIFOs, sockets and System V objects left by dead ipcbench runs (never a live run's)")
    .option('--dry-run', 'only list what would be removed')
    .option('--json', 'print JSON')
    .action((flags: { dryRun?: boolean; json?: boolean }) => {
      const report = cleanStale({ dryRun: flags.dryRun === true })
      if (flags.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n')
        return
      }
      const verb = flags.dryRun ? 'would remove' : 'removed'
      process.stdout.write(`${verb} ${report.removed.length} object(s)${report.removed.length ? ':\n  ' + report.removed.join('\n  ') : ''}\n`)
      if (report.kept.length > 0) process.stdout.write(`kept ${report.kept.length} object(s) of live ipcbench runs\n`)
    })
}

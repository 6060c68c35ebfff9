import { Command, CommanderError, Option } from 'commander'
import { ExitCode, UsageError } from './core/errors.js'
import { registerRunCommands } from './cli/run-command.js'
import { registerAbCommand } from './cli/ab-command.js'
import { registerInfoCommands } from './cli/info-command.js'
import { registerReportCommand } from './cli/report-command.js'
import { registerCleanCommand } from './cli/clean-command.js'
import { registerCompareCommands } from './cli/compare-command.js'
import { registerHistoryCommand } from './cli/history-command.js'
import { packageVersion } from './harness/host/env.js'

/**
 * ipcbench's command line. Each command lives in src/cli/<name>-command.ts; this
 * file only assembles them and turns errors into exit codes:
 * 0 success, 1 runtime failure, 2 usage error or invalid input, 130/143 interrupted.
 */
function buildProgram(): Command {
  const program = new Command()
    .name('ipcbench')
    .description('Measure how processes and threads on one Linux host talk to each other')
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.startsWith('error:') ? `Error: ${str.slice(7)}` : str) })
  registerInfoCommands(program)
  registerRunCommands(program)
  registerReportCommand(program)
  registerCleanCommand(program)
  registerCompareCommands(program)
  registerAbCommand(program)
  registerHistoryCommand(program)
  program.addOption(new Option('--no-color', 'disable colour (also NO_COLOR, or when stdout is not a terminal)'))
  return program
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; anything else commander rejects is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0
      return 2
    }
    if (err instanceof UsageError) {
      process.stderr.write(`Error: ${err.message}\n`)
      return 2
    }
    if (err instanceof ExitCode) {
      if (err.message) process.stderr.write(`${err.message}\n`)
      return err.exitCode
    }
    const e = err as NodeJS.ErrnoException
    process.stderr.write(`Error: ${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}\n`)
    if (process.env.IPCBENCH_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`)
    return 1
  }
}

main(process.argv).then((code) => {
  process.exitCode = code
})

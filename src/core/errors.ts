/**
 * Errors the command line turns into exit codes. A UsageError is the user's to fix
 * (exit 2, one line on stderr, no stack); anything else is a runtime failure (exit 1).
 */
export class UsageError extends Error {
  readonly exitCode = 2
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** A condition that should end the process with a specific code (e.g. a regression gate). */
export class ExitCode extends Error {
  constructor(readonly exitCode: number, message = '') {
    super(message)
    this.name = 'ExitCode'
  }
}

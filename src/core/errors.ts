/**
 * Every error ipcbench makes, in one place. Runtime failures carry a `code` (and,
 * from a system call, `errno` and `syscall`) that the result keeps, so a report can
 * say what failed without parsing a message. The command line turns a UsageError
 * into exit 2 (one line, no stack), an ExitCode into its code, anything else into 1.
 */

export interface ErrorDetail {
  errno?: number
  syscall?: string
}

/** An error with a code: what every layer throws instead of a bare Error. */
export class IpcbenchError extends Error {
  override name = 'IpcbenchError'
  readonly errno?: number
  readonly syscall?: string

  constructor(
    readonly code: string,
    message: string,
    detail: ErrorDetail = {},
  ) {
    super(message)
    if (detail.errno !== undefined) this.errno = detail.errno
    if (detail.syscall !== undefined) this.syscall = detail.syscall
  }
}

/** The one factory for coded errors: `ipcError('ESHORT', 'received 3 bytes, expected 64')`. */
export function ipcError(code: string, message: string, detail?: ErrorDetail): IpcbenchError {
  return new IpcbenchError(code, message, detail)
}

/** The other side has gone: EOF, a closed port, an exited process. */
export class PeerGoneError extends IpcbenchError {
  override name = 'PeerGoneError'
  constructor(message: string) {
    super('EPEERCLOSED', message)
  }
}

/** A message arrived lost, duplicated, reordered, stale or corrupted. */
export class IntegrityError extends IpcbenchError {
  override name = 'IntegrityError'
  constructor(message: string) {
    super('EINTEGRITY', message)
  }
}

/** Which side of a case failed: the initiating side, its peer, or the harness itself. */
export type Side = 'a' | 'b' | 'harness'

/** An error the other side reported over the control channel, keeping its code, errno and syscall. */
export class PeerError extends Error {
  override name = 'PeerError'
  code?: string
  errno?: number
  syscall?: string
  side?: Side
}

/** The user's input is wrong: exit 2, and the message says what to do instead. */
export class UsageError extends Error {
  override name = 'UsageError'
  readonly exitCode = 2
}

/** A condition that should end the process with a specific code (e.g. a regression gate). */
export class ExitCode extends Error {
  override name = 'ExitCode'
  constructor(
    readonly exitCode: number,
    message = '',
  ) {
    super(message)
  }
}

/** What a result keeps of an error that ended a case. */
export interface ErrorFields {
  message: string
  code?: string
  errno?: number
  syscall?: string
}

/** The fields of any thrown value, as a result or a control message carries them. */
export function errorFields(err: unknown): ErrorFields {
  const e = err as Partial<NodeJS.ErrnoException> | undefined
  return {
    message: e?.message ?? String(err),
    code: typeof e?.code === 'string' ? e.code : undefined,
    errno: typeof e?.errno === 'number' ? Math.abs(e.errno) : undefined,
    syscall: typeof e?.syscall === 'string' ? e.syscall : undefined,
  }
}

/** The error code of a failed file system call, else its message: for "cannot write X (ENOSPC)". */
export const reasonOf = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message

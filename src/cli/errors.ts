/** How the command line ends, and the one error type its commands throw on purpose. */

export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** EX_CONFIG from sysexits.h: the environment holds a bad setting. */
  config: 78,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** A failure whose message is meant for the user as it stands; no stack trace is printed. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT_CODES.failure,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT_CODES.usage);

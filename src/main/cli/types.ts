/** What every `nca` sub-command gets: parsed global flags and where to write. */
export interface CliContext {
  /** --data-dir, or the platform default. */
  dataDir: string;
  /** --json: print exactly one JSON object on stdout; progress goes to stderr. */
  json: boolean;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Aborted on SIGINT/SIGTERM so long commands can stop cleanly. */
  signal: AbortSignal;
}

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  /** `args` are the words after the command name, with the global flags removed. Returns the exit code. */
  run(args: string[], ctx: CliContext): Promise<number>;
}

/** A user-facing CLI error: printed without a stack trace, exit code 2. */
export class CliUsageError extends Error {}

/** Typed engine errors: the training service maps them to run statuses. */
export class DivergedError extends Error {
  readonly status = 'diverged' as const;
  constructor(
    message: string,
    readonly iteration: number,
  ) {
    super(message);
    this.name = 'DivergedError';
  }
}

export class ConfigError extends Error {
  readonly status = 'failed' as const;
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** Loss above this, or above EXPLODE_FACTOR x the first iteration's loss, counts as divergence. */
export const EXPLODE_ABSOLUTE = 1e8;
export const EXPLODE_FACTOR = 1e4;

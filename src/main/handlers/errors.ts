/** Map service errors to API errors: what the user caused keeps its message and gets a precise code. */
import { ApiError, type ErrorCode } from '../../shared/contract.ts';
import { DatasetError } from '../services/datasets/index.ts';
import { StoreError, type StoreErrorCode } from '../services/store/index.ts';

const STORE_CODES: Partial<Record<StoreErrorCode, ErrorCode>> = {
  'not-found': 'not_found',
  invalid: 'invalid_params',
  'invalid-file': 'bad_request',
  locked: 'conflict',
  readonly: 'unavailable',
  full: 'unavailable',
  corrupt: 'unavailable',
  closed: 'unavailable',
};

export function toApiError(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  if (err instanceof StoreError) return new ApiError(STORE_CODES[err.code] ?? 'service_error', err.message);
  if (err instanceof DatasetError) return new ApiError('bad_request', err.message);
  return err;
}

/** Wrap a handler so service errors reach the UI with the right code. */
export function mapped<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw toApiError(err);
    }
  };
}

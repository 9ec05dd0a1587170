/**
 * Store errors a user can cause or meet (locked, read-only, corrupt, full disk, bad input), each
 * with a `code` the UI can branch on and a message naming the file or value.
 */
import Database from 'better-sqlite3';

export type StoreErrorCode =
  | 'locked'
  | 'readonly'
  | 'corrupt'
  | 'full'
  | 'cannot-open'
  | 'newer-version'
  | 'not-found'
  | 'invalid'
  | 'invalid-file'
  | 'closed'
  | 'io';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

/** Turn a better-sqlite3 / fs error into a StoreError that says what happened to which file. */
export function toStoreError(err: unknown, file: string, busyTimeoutMs: number): unknown {
  if (err instanceof StoreError) return err;
  if (err instanceof Database.SqliteError) {
    const primary = err.code.split('_').slice(0, 2).join('_');
    switch (primary) {
      case 'SQLITE_BUSY':
      case 'SQLITE_LOCKED':
        return new StoreError(
          'locked',
          `${file} is locked by another process or connection (still busy after ${busyTimeoutMs} ms); ` +
            'try again, or close the other program using this data directory',
          { cause: err },
        );
      case 'SQLITE_READONLY':
        return new StoreError(
          'readonly',
          `${file} is read-only (${err.message}); check the file and folder permissions`,
          { cause: err },
        );
      case 'SQLITE_NOTADB':
      case 'SQLITE_CORRUPT':
        return new StoreError(
          'corrupt',
          `${file} is damaged or not a database (${err.message}); move it aside to start a fresh run store`,
          { cause: err },
        );
      case 'SQLITE_FULL':
        return new StoreError(
          'full',
          `cannot write ${file}: the disk is full (${err.message}); free some space`,
          {
            cause: err,
          },
        );
      case 'SQLITE_CANTOPEN':
        return new StoreError('cannot-open', `cannot open ${file} (${err.message})`, { cause: err });
      case 'SQLITE_IOERR':
        return new StoreError('io', `input/output error on ${file} (${err.message})`, { cause: err });
    }
    return err;
  }
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC')
    return new StoreError('full', `cannot write ${file}: the disk is full`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new StoreError('readonly', `cannot write ${file}: permission denied (${code})`, { cause: err });
  return err;
}

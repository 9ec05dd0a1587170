/**
 * The run database schema, one migration per `user_version`. Never edit a released migration:
 * add the next one, and keep the test that opens a database of every older version passing.
 */
import type Database from 'better-sqlite3';

/** MIGRATIONS[i] takes a database from user_version i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  // v1
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    task TEXT NOT NULL,
    dataset TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    status_message TEXT,
    backend TEXT,
    device TEXT,
    seed INTEGER NOT NULL,
    app_version TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    notes TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    parent_run_id TEXT REFERENCES runs(id) ON DELETE SET NULL,
    -- the process training the run ('<host>:<pid>'), so a second process does not mark a live run interrupted
    owner TEXT,
    -- aggregates kept up to date by each metric/evaluation write, so the list never scans series
    metric_rows INTEGER NOT NULL DEFAULT 0,
    last_iteration INTEGER,
    last_wall_ms REAL,
    best_loss REAL,
    best_per_cell_accuracy REAL,
    best_agreement REAL,
    best_eval_accuracy REAL,
    best_eval_agreement REAL
  );
  CREATE INDEX runs_status ON runs(status);
  CREATE INDEX runs_created ON runs(created_at);

  -- Metrics in columnar chunks (one per writer flush): each column is a little-endian Float64Array
  -- of row_count values. Far cheaper to insert and scan than one SQL row per iteration.
  CREATE TABLE metric_chunks (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    first_iteration INTEGER NOT NULL,
    last_iteration INTEGER NOT NULL,
    row_count INTEGER NOT NULL,
    iteration BLOB NOT NULL,
    loss BLOB NOT NULL,
    per_cell_accuracy BLOB NOT NULL,
    agreement BLOB NOT NULL,
    lr BLOB NOT NULL,
    grad_norm BLOB NOT NULL,
    iteration_ms BLOB NOT NULL,
    cells_per_sec BLOB NOT NULL,
    wall_ms BLOB NOT NULL
  );
  CREATE INDEX metric_chunks_run ON metric_chunks(run_id, first_iteration);

  CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    iteration INTEGER NOT NULL,
    per_cell_accuracy REAL,
    agreement REAL,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE INDEX evaluations_run ON evaluations(run_id, iteration);

  CREATE TABLE checkpoints (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    iteration INTEGER NOT NULL,
    metric REAL,
    created_at INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    data BLOB NOT NULL
  );
  CREATE INDEX checkpoints_run ON checkpoints(run_id, iteration);

  CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    frame_count INTEGER NOT NULL,
    dtype TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    -- zlib (fflate) compressed frames
    data BLOB NOT NULL
  );
  CREATE INDEX recordings_run ON recordings(run_id);

  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    run_id TEXT REFERENCES runs(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX events_run ON events(run_id, id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Our tables: a version-0 file holding any other table is someone else's database. */
export const OWN_TABLES = ['runs', 'metric_chunks', 'evaluations', 'checkpoints', 'recordings', 'events'];

/**
 * Bring `db` from its user_version up to `target` (default: the latest) inside one IMMEDIATE
 * transaction, re-reading the version under the lock so two processes opening a fresh data dir at
 * once migrate it exactly once. Returns the version it found.
 */
export function applyMigrations(db: Database.Database, target = SCHEMA_VERSION): number {
  const migrate = db.transaction(() => {
    const from = db.pragma('user_version', { simple: true }) as number;
    for (let v = from; v < target; v++) {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }
    return from;
  });
  return migrate.immediate();
}

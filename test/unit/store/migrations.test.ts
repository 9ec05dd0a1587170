import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyMigrations,
  RunStore,
  SCHEMA_VERSION,
  StoreError,
} from '../../../src/main/services/store/index.ts';
import { classifyConfig, tempDir } from './helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function dbIn(): { dir: string; file: string } {
  const dir = tempDir();
  dirs.push(dir);
  return { dir, file: path.join(dir, 'runs.sqlite') };
}

/**
 * Sample rows for a database at `version`. Version 1 is the first schema; when v2 lands, add the
 * rows a v1 database can hold here (or load a kept v1 fixture) so the upgrade is tested with data.
 */
function seed(db: Database.Database, version: number): string | null {
  if (version < 1) return null;
  db.prepare(
    `INSERT INTO runs (id, name, task, dataset, config, status, seed, app_version, created_at, tags, owner)
     VALUES ('old1', 'old run', 'classify', 'mnist', ?, 'running', 0, '0.0.1', 1, '["x"]', 'gone-host|1|')`,
  ).run(JSON.stringify({ ...classifyConfig(), checkpoints: { every: 1, keepLatest: 3, keepBest: true } }));
  return 'old1';
}

describe('schema migrations', () => {
  for (let version = 0; version < SCHEMA_VERSION; version++) {
    it(`opens a version ${version} database and upgrades it to ${SCHEMA_VERSION}`, () => {
      const { dir, file } = dbIn();
      const old = new Database(file);
      applyMigrations(old, version);
      const runId = seed(old, version);
      expect(old.pragma('user_version', { simple: true })).toBe(version);
      old.close();

      const store = RunStore.open(dir);
      expect(store.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(store.integrityCheck()).toEqual(['ok']);
      if (runId) {
        // A run left 'running' by a process that is gone turns 'interrupted' at open.
        expect(store.getRun(runId)).toMatchObject({ name: 'old run', status: 'interrupted', tags: ['x'] });
      }
      const fresh = store.createRun({ name: 'new', config: classifyConfig() });
      expect(store.listRuns().map((r) => r.id)).toContain(fresh.id);
      store.close();
    });
  }

  it('refuses a database from a newer app version', () => {
    const { dir, file } = dbIn();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => RunStore.open(dir)).toThrow(/newer NCA Workbench/);
  });

  it("refuses another program's SQLite database without touching it", () => {
    const { dir, file } = dbIn();
    const db = new Database(file);
    db.exec('CREATE TABLE invoices (id INTEGER)');
    db.close();
    let err: unknown;
    try {
      RunStore.open(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('invalid-file');
    expect((err as StoreError).message).toContain('invoices');
    const again = new Database(file);
    expect(again.pragma('user_version', { simple: true })).toBe(0);
    again.close();
  });
});

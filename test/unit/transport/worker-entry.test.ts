import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveWorkerEntry } from '../../../src/main/util/worker.ts';

describe('worker entries', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-entry-'));
  fs.mkdirSync(path.join(dir, 'chunks'));
  fs.writeFileSync(path.join(dir, 'worker.js'), '');
  fs.writeFileSync(path.join(dir, 'here.ts'), '');

  it('use the .ts source when it exists (tsx)', () => {
    const url = pathToFileURL(path.join(dir, 'here.ts'));
    expect(resolveWorkerEntry(url).href).toBe(url.href);
  });

  it('use the bundled .js beside or above the calling chunk in the Electron build', () => {
    const fromChunk = pathToFileURL(path.join(dir, 'chunks', 'worker.ts'));
    expect(resolveWorkerEntry(fromChunk).href).toBe(pathToFileURL(path.join(dir, 'worker.js')).href);
  });

  it('name the missing entry when neither exists', () => {
    expect(() => resolveWorkerEntry(pathToFileURL(path.join(dir, 'chunks', 'nope.ts')))).toThrow(
      /nope\.ts is missing/,
    );
  });
});

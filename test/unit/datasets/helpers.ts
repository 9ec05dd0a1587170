import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The shared datasets folder beside the repository (CI clones the repo next to shared/). */
export const sharedDatasets = path.resolve(repoRoot, '../shared/datasets');
export const fixtures = path.join(repoRoot, 'test/fixtures/datasets');
export const DEBIAN_FASHION = '/usr/share/datasets/fashion-mnist';

/** A fresh temporary folder; call the returned cleanup in afterEach/afterAll. */
export async function tempDir(prefix = 'nca-ds-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function copyFixture(name: string, into: string): Promise<string> {
  const target = path.join(into, name);
  await cp(path.join(fixtures, name), target, { recursive: true });
  return target;
}

export function perClassCounts(labels: Uint8Array, classes: number): number[] {
  const out = new Array<number>(classes).fill(0);
  for (const l of labels) out[l]++;
  return out;
}

import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DatasetService } from '../../../src/main/services/datasets/index.ts';
import { DEBIAN_FASHION, removeDir, repoRoot, sharedDatasets, tempDir } from './helpers.ts';

const run = promisify(execFile);

describe('verify', () => {
  it('recognises the official MNIST files (by decompressed content) and checks the pairs', async () => {
    const svc = new DatasetService({ dataDir: '/nonexistent', env: {} });
    const r = await svc.verify(path.join(sharedDatasets, 'mnist'));
    expect(r.ok).toBe(true);
    expect(r.files.map((f) => f.matches).sort()).toEqual([
      'mnist t10k-images-idx3-ubyte.gz',
      'mnist t10k-labels-idx1-ubyte.gz',
      'mnist train-images-idx3-ubyte.gz',
      'mnist train-labels-idx1-ubyte.gz',
    ]);
    expect(r.splits.train.perClass).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  });

  it("Debian's Fashion-MNIST decompresses to the official files", async () => {
    const svc = new DatasetService({ dataDir: '/nonexistent', env: {} });
    const r = await svc.verify(DEBIAN_FASHION);
    expect(r.ok).toBe(true);
    expect(r.files.every((f) => f.matches?.startsWith('fashion-mnist '))).toBe(true);
    expect(r.files.length).toBe(4);
  });

  it('reports (does not throw) broken files and incomplete folders', async () => {
    const dir = await tempDir();
    const svc = new DatasetService({ dataDir: dir, env: {} });
    const folder = path.join(dir, 'set');
    await mkdir(folder);
    const labels = await readFile(path.join(sharedDatasets, 'kmnist/t10k-labels-idx1-ubyte.gz'));
    await writeFile(path.join(folder, 't10k-labels-idx1-ubyte.gz'), labels.subarray(0, 100));
    const r = await svc.verify(folder);
    expect(r.ok).toBe(false);
    expect(r.problems).toContain(`${folder}: test images file is missing`);
    expect(
      r.problems.some((p) =>
        p.startsWith(`${path.join(folder, 't10k-labels-idx1-ubyte.gz')}: gzip data is truncated`),
      ),
    ).toBe(true);
    const none = await svc.verify(path.join(dir, 'missing'));
    expect(none.problems).toEqual([`${path.join(dir, 'missing')}: no such file or folder`]);
    await removeDir(dir);
  });
});

describe('nca datasets (CLI, a real child process)', () => {
  const nca = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, ['--import', 'tsx', 'src/main/cli/index.ts', 'datasets', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );

  it('list --json, stats --json, verify and error exit codes', async () => {
    const dataDir = await tempDir();
    const env = { NCA_DATASETS_PATH: sharedDatasets };
    const list = await nca(['list', '--json', '--data-dir', dataDir], env);
    expect(list.code).toBe(0);
    const entries = JSON.parse(list.stdout).datasets as Array<{
      id: string;
      availability: string;
      classes: { reading?: string }[];
    }>;
    expect(entries.find((e) => e.id === 'kmnist')!.availability).toBe('missing-files');
    expect(entries.find((e) => e.id === 'kmnist')!.classes.map((c) => c.reading)).toEqual([
      'o',
      'ki',
      'su',
      'tsu',
      'na',
      'ha',
      'ma',
      'ya',
      're',
      'wo',
    ]);
    const stats = await nca(['stats', 'kmnist-split', '--json', '--data-dir', dataDir], env);
    expect(JSON.parse(stats.stdout).test.perClass).toEqual(new Array(10).fill(200));
    const bad = path.join(dataDir, 'bad.gz');
    await writeFile(bad, Buffer.from('PK\x03\x04 not idx'));
    const verify = await nca(['verify', bad, '--data-dir', dataDir]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`problem: ${bad}: wrong magic number 0x504b0304`);
    const unknown = await nca(['stats', 'nope', '--data-dir', dataDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('nca: unknown dataset "nope"');
    await removeDir(dataDir);
  });
});

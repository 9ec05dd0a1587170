import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runsCommand } from '../../../src/main/cli/commands/runs.ts';
import { CliUsageError, type CliContext } from '../../../src/main/cli/types.ts';
import { RunStore } from '../../../src/main/services/store/index.ts';
import { classifyConfig, metricRow, tempDir } from './helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function context(dataDir: string, json: boolean) {
  const out: string[] = [];
  const ctx: CliContext = {
    dataDir,
    json,
    stdout: (t) => out.push(t),
    stderr: () => {},
    signal: new AbortController().signal,
  };
  return { ctx, out };
}

async function runJson(dataDir: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { ctx, out } = context(dataDir, true);
  expect(await runsCommand.run(args, ctx)).toBe(0);
  expect(out.length).toBe(1); // exactly one JSON object
  return JSON.parse(out[0]) as Record<string, unknown>;
}

function seeded(): { dir: string; id: string } {
  const dir = tempDir();
  dirs.push(dir);
  const store = RunStore.open(dir);
  const run = store.createRun({ name: 'cli run', config: classifyConfig(), tags: ['t1'] });
  const w = store.metricWriter(run.id);
  for (let i = 0; i < 50; i++) w.push(metricRow(i));
  w.close();
  store.saveCheckpoint(run.id, { iteration: 49, metric: 0.7, data: new Uint8Array([1, 2, 3]) });
  store.close();
  return { dir, id: run.id };
}

describe('nca runs', () => {
  it('lists, shows, exports, imports and deletes with --json', async () => {
    const { dir, id } = seeded();
    const list = (await runJson(dir, 'list', '--tag', 't1')) as {
      runs: { id: string; metricRows: number }[];
    };
    expect(list.runs.map((r) => [r.id, r.metricRows])).toEqual([[id, 50]]);
    expect(
      ((await runJson(dir, 'list', '--status', 'completed,failed')) as { runs: unknown[] }).runs,
    ).toEqual([]);

    const show = (await runJson(dir, 'show', id)) as {
      run: { name: string };
      checkpoints: { iteration: number }[];
    };
    expect(show.run.name).toBe('cli run');
    expect(show.checkpoints.map((c) => c.iteration)).toEqual([49]);

    const file = path.join(dir, 'out.ncarun');
    expect(await runJson(dir, 'export', id, file, '--checkpoints', 'latest')).toMatchObject({
      runId: id,
      file,
    });
    const other = tempDir();
    dirs.push(other);
    const imported = (await runJson(other, 'import', file)) as { run: { id: string; name: string } };
    expect(imported.run).toMatchObject({ id, name: 'cli run' });

    expect(await runJson(dir, 'delete', id)).toEqual({ deleted: id });
    expect(((await runJson(dir, 'list')) as { runs: unknown[] }).runs).toEqual([]);
  });

  it('prints a table without --json', async () => {
    const { dir, id } = seeded();
    const { ctx, out } = context(dir, false);
    await runsCommand.run(['list'], ctx);
    expect(out[0].split('\n')[0]).toMatch(/^ID\s+NAME\s+STATUS/);
    expect(out[0]).toContain(id);
    expect(out[0]).toContain('train 83.1%'); // best per-cell accuracy 49/59
  });

  it('reports usage errors and store errors clearly', async () => {
    const { dir } = seeded();
    const { ctx } = context(dir, false);
    await expect(runsCommand.run(['list', '--sort', 'bogus'], ctx)).rejects.toThrow(/--sort/);
    await expect(runsCommand.run(['show'], ctx)).rejects.toBeInstanceOf(CliUsageError);
    await expect(runsCommand.run(['frobnicate'], ctx)).rejects.toThrow(/unknown runs command "frobnicate"/);
    await expect(runsCommand.run(['export', 'x', 'f', '--checkpoints', 'some'], ctx)).rejects.toThrow(
      /--checkpoints must be latest, best or all/,
    );
    await expect(runsCommand.run(['show', 'nope'], ctx)).rejects.toThrow(/no run with id "nope"/);
  });
});

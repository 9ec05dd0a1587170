/**
 * Pretrained models shipped in resources/models: small .ncarun files (weights-only checkpoints plus
 * the training curves) listed in index.json with how each was trained and what it scores. They are
 * imported into the run store once, tagged "pretrained", so a fresh install opens the playground
 * with models to play with.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { RunStore } from './store/index.ts';
import type { Logger } from '../util/log.ts';

/** A fixed slice of a test split that a shipped model's figure is measured on. */
const testSlice = {
  split: z.literal('test'),
  start: z.number().int().min(0),
  count: z.number().int().min(1),
  steps: z.number().int().min(1),
};

export const PretrainedEntrySchema = z.object({
  id: z.string().min(1),
  title: z.string(),
  file: z.string().min(1),
  task: z.enum(['classify', 'grow', 'adversarial']),
  dataset: z.string(),
  /** the exact command that trained it */
  command: z.string(),
  iterations: z.number().int(),
  /** what the shipped weights score on a fixed slice of the test split (checked by a test) */
  check: z
    .object({
      ...testSlice,
      perCellAccuracy: z.number(),
      agreement: z.number(),
    })
    .optional(),
  /** adversaries: the attack success on a fixed slice at one adversary fraction (checked by a test) */
  attack: z
    .object({
      ...testSlice,
      fraction: z.number().min(0).max(1),
      success: z.number(),
    })
    .optional(),
  /** growing NCAs: the RGBA loss grown from the seed, and regrown after a central cut (checked by a test) */
  grow: z
    .object({
      steps: z.number().int().min(1),
      loss: z.number(),
      regrownLoss: z.number(),
    })
    .optional(),
});
export type PretrainedEntry = z.infer<typeof PretrainedEntrySchema>;

export const PretrainedIndexSchema = z.object({ models: z.array(PretrainedEntrySchema) });

export function readPretrainedIndex(dir: string): PretrainedEntry[] {
  const file = path.join(dir, 'index.json');
  if (!fs.existsSync(file)) return [];
  const parsed = PretrainedIndexSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new Error(`${file}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  return parsed.data.models;
}

/** Import the models not imported before (remembered in <dataDir>/pretrained.json). */
export function installPretrained(store: RunStore, dir: string, dataDir: string, log: Logger): string[] {
  const markerFile = path.join(dataDir, 'pretrained.json');
  let installed: Record<string, string> = {};
  try {
    if (fs.existsSync(markerFile))
      installed = JSON.parse(fs.readFileSync(markerFile, 'utf8')) as Record<string, string>;
  } catch {
    installed = {};
  }
  const added: string[] = [];
  let entries: PretrainedEntry[];
  try {
    entries = readPretrainedIndex(dir);
  } catch (err) {
    log.warn(`pretrained models not installed: ${(err as Error).message}`);
    return added;
  }
  for (const entry of entries) {
    if (installed[entry.id]) continue;
    try {
      const run = store.importRun(path.join(dir, entry.file));
      const tags = [...new Set([...run.tags, 'pretrained'])];
      store.updateRun(run.id, { name: entry.title, tags });
      // shipped weights are a finished thing, whatever the run was doing when it was exported
      if (
        run.status === 'running' ||
        run.status === 'paused' ||
        run.status === 'interrupted' ||
        run.status === 'queued'
      )
        store.setStatus(run.id, 'stopped', 'pretrained model (weights only)');
      installed[entry.id] = run.id;
      added.push(run.id);
    } catch (err) {
      log.warn(`pretrained model ${entry.id} (${entry.file}) not installed: ${(err as Error).message}`);
    }
  }
  if (added.length) fs.writeFileSync(markerFile, JSON.stringify(installed, null, 2));
  return added;
}

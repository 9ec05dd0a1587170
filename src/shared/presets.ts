/**
 * Named starting points for runs. Each is a partial run configuration: the schema in nca-config.ts
 * fills in every other value (the reference defaults), so a preset says only what differs.
 */
import { RunConfigSchema, type RunConfig, type RunConfigInput } from './nca-config.ts';

export interface Preset {
  id: string;
  title: string;
  /** one line for the New-run form */
  description: string;
  config: RunConfigInput;
  /** fields the user must fill in before the run can start */
  requires?: string[];
}

export const PRESETS: Preset[] = [
  {
    id: 'quick-demo',
    title: 'Quick demo (glyphs)',
    description:
      'The reference classifier on the built-in glyphs (cross-entropy, 10 steps): per-cell accuracy 10% -> ~30% in under a minute on 2 cores.',
    config: {
      task: 'classify',
      dataset: 'glyphs',
      loss: 'ce',
      steps: 10,
      batch: 16,
      pool: { size: 128, freshFraction: 0.5, mutateFraction: 0 },
      iterations: 1000,
      optimizer: { lr: 2e-3, schedule: [{ at: 700, lr: 5e-4 }], normalizeGradients: true },
      evaluation: { every: 250, images: 100, steps: 20, mutateSteps: 10 },
      checkpoints: { every: 250, keepLatest: 3, keepBest: true },
    },
  },
  {
    id: 'distill-mnist',
    title: 'Self-classifying MNIST (Distill 2020)',
    description:
      'The reference model: 20 channels, learned 3x3 perception, 80 hidden, L2 + noise, 100k iterations.',
    config: {
      task: 'classify',
      dataset: 'mnist',
      evaluation: { every: 2000, images: 1000, steps: 200, mutateSteps: 200 },
    },
  },
  {
    id: 'paper-fashion',
    title: 'Fashion-MNIST classifier (seed paper)',
    description: 'The reference classifier on Fashion-MNIST (the paper reports 80.81% per-cell accuracy).',
    config: {
      task: 'classify',
      dataset: 'fashion-mnist',
      evaluation: { every: 2000, images: 1000, steps: 200, mutateSteps: 200 },
    },
  },
  {
    id: 'paper-kmnist',
    title: 'KMNIST classifier (seed paper)',
    description:
      'The reference classifier on kmnist-split (8,000 / 2,000 of the KMNIST test set): islands of strokes cannot talk.',
    config: {
      task: 'classify',
      dataset: 'kmnist-split',
      evaluation: { every: 2000, images: 1000, steps: 200, mutateSteps: 200 },
    },
  },
  {
    id: 'kmnist-nomask',
    title: 'KMNIST without alive mask, 5x5',
    description:
      "The paper's proposed fix: every cell alive and 5x5 perception, so separate strokes can agree.",
    config: {
      task: 'classify',
      dataset: 'kmnist-split',
      aliveMode: 'none',
      perception: { kind: 'learned', kernel: 5, filters: 80 },
      evaluation: { every: 2000, images: 500, steps: 200, mutateSteps: 200 },
    },
  },
  {
    id: 'kmnist-relay',
    title: 'KMNIST, background relays (no mask, strokes answer)',
    description:
      'Every cell computes and passes messages between islands of strokes, but only stroke cells are trained and scored.',
    config: {
      task: 'classify',
      dataset: 'kmnist-split',
      aliveMode: 'none',
      readout: 'strokes',
      perception: { kind: 'learned', kernel: 5, filters: 80 },
      evaluation: { every: 2000, images: 500, steps: 200, mutateSteps: 200 },
    },
  },
  {
    id: 'grow-fashion',
    title: 'Regrow a Fashion-MNIST item',
    description:
      'Growing NCA (16 channels, Sobel perception, 128 hidden) regrowing a 28x28 item from one cell, with damage.',
    config: {
      task: 'grow',
      target: { kind: 'dataset', dataset: 'fashion-mnist', index: 0 },
      targetSize: 28,
      padding: 8,
      experiment: 'regenerating',
    },
  },
  {
    id: 'adversarial',
    title: 'Adversarial reprogramming',
    description:
      'Train adversary cells (1% of cells) that turn a frozen MNIST classifier to "8"; success rate per fraction.',
    config: {
      task: 'adversarial',
      dataset: 'mnist',
      classifierRunId: '',
      targetClass: 8,
      adversaryFraction: 0.01,
      iterations: 5000,
      evaluation: { every: 1000, images: 300, steps: 100, mutateSteps: 0 },
    },
    requires: ['classifierRunId'],
  },
];

export function findPreset(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

/**
 * A preset's full configuration with overrides applied on top (e.g. { dataset, iterations }).
 * Throws naming the preset and the field when the result is not a valid configuration.
 */
export function presetConfig(id: string, overrides: Record<string, unknown> = {}): RunConfig {
  const p = findPreset(id);
  if (!p) throw new Error(`preset "${id}" does not exist (known: ${PRESETS.map((x) => x.id).join(', ')})`);
  const r = RunConfigSchema.safeParse({ ...p.config, ...overrides });
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`preset ${id}: ${i.path.join('.') || '(config)'}: ${i.message}`);
  }
  return r.data;
}

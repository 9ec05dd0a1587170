/**
 * Widening a trained classifier keeps what it computes (same loss, same states on the old channels,
 * new channels untouched) and leaves the new units trainable (non-zero gradients reach them).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/services/engine/backends.ts';
import { classifierParams, type ClassifierArch } from '../../../src/main/services/engine/nca.ts';
import { widenClassifier, wideningProblems } from '../../../src/main/services/engine/widen.ts';
import { engineRollout, randomStates, randomWeights, smallSettings } from './helpers.ts';

const rollout = engineRollout;

/** The narrow states in the wide layout: logits moved to the last channels, new channels zero. */
function widenStates(states: Float32Array[], from: ClassifierArch, to: ClassifierArch): Float32Array[] {
  const firstLogit = from.channels - from.numClasses;
  return states.map((st) => {
    const cells = st.length / from.channels;
    const out = new Float32Array(cells * to.channels);
    for (let i = 0; i < cells; i++)
      for (let c = 0; c < from.channels; c++)
        out[i * to.channels + (c < firstLogit ? c : c + to.channels - from.channels)] =
          st[i * from.channels + c];
    return out;
  });
}

describe('widening a classifier (more channels, filters, hidden units)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  const narrowArch = smallSettings().arch; // 6 channels (pixel, 2 hidden, 3 logits), 8 filters, hidden [8]
  for (const variant of [
    {
      name: 'learned 3x3: channels, filters and hidden all grow',
      from: narrowArch,
      to: {
        ...narrowArch,
        channels: 9,
        perception: { kind: 'learned', kernel: 3, filters: 12 },
        hidden: [11],
      },
    },
    {
      name: 'learned 5x5, two hidden layers, only the hidden layers grow',
      from: { ...narrowArch, perception: { kind: 'learned', kernel: 5, filters: 8 }, hidden: [8, 6] },
      to: { ...narrowArch, perception: { kind: 'learned', kernel: 5, filters: 8 }, hidden: [10, 9] },
    },
    {
      name: 'deepened: a hidden layer appended as the identity',
      from: narrowArch,
      to: { ...narrowArch, hidden: [8, 8] },
    },
    {
      name: 'widened and deepened at once: channels and hidden units grow, two layers appended',
      from: narrowArch,
      to: { ...narrowArch, channels: 8, hidden: [10, 10, 10] },
    },
    {
      name: 'fixed Sobel perception: only the channels grow',
      from: { ...narrowArch, perception: { kind: 'sobel', kernel: 3, filters: 8 } },
      to: { ...narrowArch, channels: 8, perception: { kind: 'sobel', kernel: 3, filters: 8 } },
    },
  ] as { name: string; from: ClassifierArch; to: ClassifierArch }[]) {
    it(`${variant.name}: the same loss and states, gradients on the new units`, async () => {
      // no residual noise: it is drawn per channel, so more channels would draw other numbers
      const narrow = smallSettings({ arch: variant.from, residualNoise: 0, steps: 5 });
      const wide = { ...narrow, arch: variant.to };
      const w = randomWeights(narrow, 3);
      const states = randomStates(narrow, 3, 4);
      const widened = widenClassifier(variant.from, variant.to, w, 11);
      expect(widened.map((v) => v.length)).toEqual(
        classifierParams(variant.to).map((p) => p.shape.reduce((a, b) => a * b, 1)),
      );

      const a = await rollout(narrow, w, states);
      const b = await rollout(wide, widened, widenStates(states, variant.from, variant.to));
      expect(a.loss).toBeGreaterThan(0);
      expect(b.loss).toBeCloseTo(a.loss, 4);
      const expected = widenStates(a.states, variant.from, variant.to);
      let maxDiff = 0;
      b.states.forEach((st, i) =>
        st.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - expected[i][j])))),
      );
      expect(maxDiff).toBeLessThan(1e-4);

      // the new hidden units' outgoing weights (new rows of the next layer) get gradients, so they learn
      const twoLayers = variant.to.hidden.length > 1;
      const next = b.grads![b.names.indexOf(twoLayers ? 'update.1.kernel' : 'update.out.kernel')];
      const cols = twoLayers ? variant.to.hidden[1] : variant.to.channels - 1;
      const newRows = next.subarray(variant.from.hidden[0] * cols);
      if (variant.to.hidden[0] > variant.from.hidden[0])
        expect(Math.max(...newRows.map(Math.abs))).toBeGreaterThan(0);
      // an appended layer (the identity at first) learns too
      for (let l = variant.from.hidden.length; l < variant.to.hidden.length; l++) {
        const g = b.grads![b.names.indexOf(`update.${l}.kernel`)];
        expect(Math.max(...g.map(Math.abs)), `update.${l}.kernel`).toBeGreaterThan(0);
      }
      // the new filters' outgoing weights (rows of update.0) too
      if (
        variant.to.perception.kind === 'learned' &&
        variant.to.perception.filters > variant.from.perception.filters
      ) {
        const u0 = b.grads![b.names.indexOf('update.0.kernel')];
        const newFilterRows = u0.subarray(variant.from.perception.filters * variant.to.hidden[0]);
        expect(Math.max(...newFilterRows.map(Math.abs))).toBeGreaterThan(0);
      }
    });
  }

  it('names what is not a widening', () => {
    const problems = wideningProblems(narrowArch, {
      ...narrowArch,
      channels: 5,
      perception: { kind: 'learned', kernel: 5, filters: 4 },
      hidden: [8, 6],
    });
    expect(problems.join('\n')).toMatch(/channels: 6 → 5 \(narrower\)/);
    expect(problems.join('\n')).toMatch(/perception\.kernel: 3 → 5/);
    expect(problems.join('\n')).toMatch(/perception\.filters: 8 → 4 \(narrower\)/);
    expect(problems.join('\n')).toMatch(
      /hidden: \[8\] → \[8, 6\] \(an added layer must be as wide as the last/,
    );
    expect(wideningProblems(narrowArch, { ...narrowArch, hidden: [] })).toEqual([
      'hidden: [8] → [] (a layer fewer or narrower)',
    ]);
    expect(wideningProblems({ ...narrowArch, hidden: [] }, narrowArch)).toEqual([
      'hidden: [] → [8] (a model without hidden layers cannot be deepened)',
    ]);
    expect(wideningProblems(narrowArch, { ...narrowArch, hidden: [9, 9] })).toEqual([]);
    expect(() => widenClassifier(narrowArch, { ...narrowArch, channels: 5 }, [], 1)).toThrow(
      /not a widening/,
    );
  });
});

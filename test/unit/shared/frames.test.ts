import { describe, expect, it } from 'vitest';
import { encodeCellFrame, frameVotes, FRAME_BYTES_PER_CELL, NO_CLASS } from '../../../src/shared/frames.ts';
import { classRgb, paintSample } from '../../../src/shared/colormap.ts';

/** One sample, 1x3 cells, 4 channels: pixel, hidden, 2 class logits. */
const state = new Float32Array([
  // dead cell (pixel 0.05): its logits must be ignored
  0.05, 0, 5, 0,
  // alive, class 1 wins clearly
  0.9, 0.5, -1, 3,
  // alive, both logits negative: counts as no vote (reference's "dead" channel)
  0.6, -1, -0.5, -0.2,
]);

describe('cell frames', () => {
  const frame = encodeCellFrame(state, {
    task: 'classify',
    samples: 1,
    height: 1,
    width: 3,
    channels: 4,
    classCount: 2,
    channel: 1,
  });

  it('encode pixel, class, confidence, channel view and alive flag per cell', () => {
    expect(frame.length).toBe(3 * FRAME_BYTES_PER_CELL);
    expect(Array.from(frame.slice(0, 5))).toEqual([13, NO_CLASS, 0, 128, 0]);
    expect(frame[5]).toBe(Math.round(Math.fround(0.9) * 255)); // pixel 0.9
    expect(frame[6]).toBe(1);
    expect(frame[7]).toBe(Math.round(255 / (1 + Math.exp(-4)))); // softmax of (−1, 3)
    expect(frame[8]).toBe(191); // channel 1 = 0.5 -> (0.5+1)/2
    expect(frame[9]).toBe(1);
    expect(frame[11]).toBe(NO_CLASS);
  });

  it('count only voting cells for the majority and agreement', () => {
    expect(frameVotes(frame, 0, 1, 3, 2)).toEqual({ votes: [0, 1], majority: 1, agreement: 1 });
  });

  it('refuse a state of the wrong size', () => {
    expect(() =>
      encodeCellFrame(new Float32Array(5), {
        task: 'classify',
        samples: 1,
        height: 1,
        width: 3,
        channels: 4,
      }),
    ).toThrow(/expected 3 cells x 4 channels/);
  });

  it('paint classes in their palette colour, brighter when confident', () => {
    const px = paintSample(frame, 0, 1, 3, 'class', 'classify');
    const [r, g, b] = classRgb(1);
    const light = 0.35 + 0.65 * (frame[7] / 255);
    expect(Array.from(px.slice(4, 8))).toEqual([r * light, g * light, b * light, 255].map(Math.round));
    expect(px[0]).toBeLessThan(40); // dead cell is dark
  });
});

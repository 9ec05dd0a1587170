/**
 * A synthetic classifier animation (no model needed): each sample is a disc that grows from its
 * centre, its cells voting for a class that settles over time. For benchmarks, tests and demos of
 * the exporter; frames are made lazily, one per step, like an engine session would.
 */
import { FLAG_ALIVE, FRAME_BYTES_PER_CELL, NO_CLASS } from '../../../shared/frames.ts';
import type { FrameSource, SourceFrame } from './frame-source.ts';

export interface SyntheticOptions {
  samples?: number;
  width?: number;
  height?: number;
  /** frames to produce (default: endless) */
  steps?: number;
  classCount?: number;
  name?: string;
}

export function syntheticSource(o: SyntheticOptions = {}): FrameSource {
  const samples = o.samples ?? 16;
  const width = o.width ?? 28;
  const height = o.height ?? 28;
  const classCount = o.classCount ?? 10;
  const steps = o.steps ?? Infinity;
  async function* frames(): AsyncGenerator<SourceFrame> {
    for (let step = 0; step < steps; step++) {
      const frame = new Uint8Array(samples * width * height * FRAME_BYTES_PER_CELL);
      const radius = Math.min(width, height) * 0.45 * Math.min(1, (step + 1) / 40);
      for (let s = 0; s < samples; s++) {
        const truth = s % classCount;
        for (let y = 0; y < height; y++)
          for (let x = 0; x < width; x++) {
            const d = ((s * height + y) * width + x) * FRAME_BYTES_PER_CELL;
            const dist = Math.hypot(x - width / 2, y - height / 2);
            const inside = dist < radius;
            frame[d] = inside ? 200 : 0;
            // early on the cells disagree; after ~60 steps they vote for the sample's class
            const settled = step > 60 || (x * 7 + y * 3 + step) % 5 !== 0;
            frame[d + 1] = inside ? (settled ? truth : (truth + 1 + (x % 3)) % classCount) : NO_CLASS;
            frame[d + 2] = inside ? Math.min(255, 80 + step * 3) : 0;
            frame[d + 3] = (x * 9 + y * 5 + step) & 255;
            frame[d + 4] = inside ? FLAG_ALIVE : 0;
          }
      }
      yield { step, frame };
    }
  }
  return {
    width,
    height,
    samples,
    task: 'classify',
    name: o.name ?? 'synthetic',
    classNames: Array.from({ length: classCount }, (_, k) => String(k)),
    frames: frames(),
  };
}

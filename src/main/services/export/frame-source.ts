/**
 * Where exported animations come from. Anything that can produce compact cell frames step by step
 * (a playground session, a stored recording, an engine inference session per compared run) is
 * wrapped as a FrameSource; the exporter pulls frames one at a time, so a source that computes
 * frames lazily is never asked for more than the encoder can take (back-pressure end to end).
 */
import { FRAME_BYTES_PER_CELL, encodeCellFrame, type FrameMeta } from '../../../shared/frames.ts';
import type { FrameView } from '../../../shared/colormap.ts';

export type FrameTask = FrameMeta['task'];

export interface SourceFrame {
  /** NCA step this frame shows (drawn by the step-counter overlay) */
  step: number;
  /** compact frame bytes (src/shared/frames.ts): [samples][height][width][FRAME_BYTES_PER_CELL] */
  frame: Uint8Array;
  meta?: Partial<FrameMeta>;
}

export interface FrameSource {
  /** cells of one sample */
  width: number;
  height: number;
  /** samples in each frame, tiled in a near-square grid (default 1) */
  samples?: number;
  task: FrameTask;
  /** drawn above the panel by the run-name overlay (a run's name) */
  name?: string;
  /** class names for the legend (classifiers); non-ASCII names are drawn by index */
  classNames?: string[];
  /** how cells are coloured: 'class' (default for classifiers) | 'rgba' (default for grow) | 'channel' */
  view?: FrameView;
  /** frames in step order; may be endless (the exporter stops after its frame limit) */
  frames: AsyncIterable<SourceFrame>;
}

/** Bytes one frame of this source must have. */
export function frameBytes(s: Pick<FrameSource, 'width' | 'height' | 'samples'>): number {
  return (s.samples ?? 1) * s.height * s.width * FRAME_BYTES_PER_CELL;
}

/**
 * Several sources in lockstep: one array per step with a frame of each, ending as soon as any
 * source ends (the side-by-side comparison shows only steps that every run has).
 */
export async function* lockstep(sources: FrameSource[]): AsyncGenerator<SourceFrame[]> {
  const iterators = sources.map((s) => s.frames[Symbol.asyncIterator]());
  try {
    for (;;) {
      const results = await Promise.all(iterators.map((it) => it.next()));
      if (results.some((r) => r.done)) return;
      yield results.map((r) => r.value as SourceFrame);
    }
  } finally {
    // stop the sources that still have frames (an engine session frees its tensors in return())
    await Promise.all(
      iterators.map(async (it) => {
        if (it.return) await it.return(undefined).catch(() => undefined);
      }),
    );
  }
}

/** A source over frames already in memory (tests, small exports). */
export function arraySource(
  base: Omit<FrameSource, 'frames'>,
  frames: Iterable<SourceFrame> | AsyncIterable<SourceFrame>,
): FrameSource {
  const iterable = frames;
  return {
    ...base,
    frames: (async function* () {
      yield* iterable as AsyncIterable<SourceFrame>;
    })(),
  };
}

export interface RecordingLike {
  width: number;
  height: number;
  channels: number;
  frameCount: number;
  dtype: 'uint8' | 'float32';
  /** frames one after another, each height x width x channels */
  data: Uint8Array;
}

export interface RecordingSourceOptions {
  task: FrameTask;
  name?: string;
  classNames?: string[];
  /** float32 recordings: how to read the class logits (see EncodeOptions in frames.ts) */
  classCount?: number;
  /** samples stacked vertically in each recorded frame (default 1: one sample per frame) */
  samples?: number;
  /** step of the first frame (default 0) and steps between frames (default 1) */
  firstStep?: number;
  stepEvery?: number;
}

/**
 * A stored recording (RunStore.loadRecording) as a frame source. Recordings of compact frames are
 * uint8 with FRAME_BYTES_PER_CELL channels and are passed through; float32 recordings hold raw cell
 * states and are reduced with encodeCellFrame, one frame at a time.
 */
export function recordingSource(rec: RecordingLike, o: RecordingSourceOptions): FrameSource {
  const samples = o.samples ?? 1;
  if (!Number.isInteger(samples) || samples < 1 || rec.height % samples !== 0)
    throw new Error(`a recording ${rec.height} rows high cannot hold ${samples} stacked samples`);
  const height = rec.height / samples;
  const cellsPerFrame = rec.width * rec.height;
  const elementBytes = rec.dtype === 'float32' ? 4 : 1;
  const frameLength = cellsPerFrame * rec.channels * elementBytes;
  if (rec.data.byteLength !== frameLength * rec.frameCount)
    throw new Error(
      `recording holds ${rec.data.byteLength} bytes, but ${rec.frameCount} frames of ${rec.height}x${rec.width}x${rec.channels} ${rec.dtype} need ${frameLength * rec.frameCount}`,
    );
  if (rec.dtype === 'uint8' && rec.channels !== FRAME_BYTES_PER_CELL)
    throw new Error(
      `a uint8 recording must hold compact frames (${FRAME_BYTES_PER_CELL} bytes a cell), this one has ${rec.channels} channels`,
    );
  const first = o.firstStep ?? 0;
  const every = o.stepEvery ?? 1;
  async function* frames(): AsyncGenerator<SourceFrame> {
    for (let i = 0; i < rec.frameCount; i++) {
      const start = rec.data.byteOffset + i * frameLength;
      let frame: Uint8Array;
      if (rec.dtype === 'uint8') frame = new Uint8Array(rec.data.buffer, start, frameLength);
      else {
        // copy: the recording's bytes need not be 4-byte aligned
        const state = new Float32Array(rec.data.slice(i * frameLength, (i + 1) * frameLength).buffer);
        frame = encodeCellFrame(state, {
          task: o.task,
          samples,
          height,
          width: rec.width,
          channels: rec.channels,
          classCount: o.classCount,
        });
      }
      yield { step: first + i * every, frame };
    }
  }
  return {
    width: rec.width,
    height,
    samples,
    task: o.task,
    name: o.name,
    classNames: o.classNames,
    frames: frames(),
  };
}

/**
 * The inference playground: open a run's checkpoint, set an input (test image, drawn image, growing
 * seed), step, damage cells, place adversaries, and read compact frames and the vote. The UI drives
 * the pace (it asks for steps at the speed the user picks), so nothing runs unattended; one step of
 * one sample is well under a millisecond, so sessions live in this process.
 */
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../../shared/contract.ts';
import type { PlaygroundState } from '../../../shared/contract-results.ts';
import { encodeCellFrame, frameVotes, type FrameMeta } from '../../../shared/frames.ts';
import { datasetIdOf } from '../../../shared/nca-config.ts';
import type { RunRecord } from '../../../shared/runs.ts';
import { ClassifySession, GrowSession, InferenceSession } from '../engine/inference.ts';
import type { LoadedDataset } from '../datasets/index.ts';
import type { RunStore } from '../store/index.ts';
import type { FrameSource, SourceFrame } from '../export/frame-source.ts';

export interface Snapshot {
  state: PlaygroundState;
  /** the frame after the call, compact bytes (src/shared/frames.ts) */
  bytes: Uint8Array;
  meta: FrameMeta;
}

export type PlaygroundInput =
  { kind: 'test'; index: number } | { kind: 'drawn'; width: number; pixels: string } | { kind: 'seed' };

export type PlaygroundEdit =
  | { kind: 'erase'; x: number; y: number; radius: number }
  | { kind: 'adversary'; x: number; y: number; on: boolean }
  | { kind: 'sprinkle'; fraction: number; seed?: number }
  | { kind: 'clearAdversaries' };

interface OpenSession {
  id: string;
  run: RunRecord;
  session: InferenceSession;
  classNames: string[];
  dataset: LoadedDataset | null;
  lastUsed: number;
  /** the test image shown, when one is */
  testIndex: number | null;
  /** the channel shown as a heat map in frames */
  channel: number;
}

export interface PlaygroundOptions {
  store: RunStore;
  loadDataset: (id: string) => Promise<LoadedDataset>;
  /** sessions kept open at once; the least recently used one closes first */
  maxSessions?: number;
}

/** Nearest-neighbour resize of a square grey image (drawings arrive at the pad's resolution). */
export function resizeNearest(src: Uint8Array, size: number, height: number, width: number): Uint8Array {
  const out = new Uint8Array(height * width);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      out[y * width + x] = src[Math.floor((y * size) / height) * size + Math.floor((x * size) / width)];
  return out;
}

export class PlaygroundService {
  private readonly sessions = new Map<string, OpenSession>();

  constructor(private readonly o: PlaygroundOptions) {}

  async open(runId: string, checkpoint: string): Promise<Snapshot> {
    const run = this.o.store.getRun(runId);
    const ck = this.o.store.loadCheckpoint(runId, checkpoint);
    const session = await InferenceSession.fromCheckpoint(ck.data, { seed: 0 });
    // A growing run's playground starts from the seed, not from a dataset image.
    const datasetId = run.config.task === 'grow' ? null : datasetIdOf(run.config);
    const dataset = datasetId ? await this.o.loadDataset(datasetId) : null;
    const s: OpenSession = {
      id: randomUUID().slice(0, 8),
      run,
      session,
      classNames: dataset?.classNames ?? [],
      dataset,
      lastUsed: Date.now(),
      testIndex: null,
      channel: run.config.task === 'grow' ? 3 : 1,
    };
    this.sessions.set(s.id, s);
    this.evict();
    if (session instanceof ClassifySession && dataset) this.setTest(s, 0);
    return this.snapshot(s);
  }

  private evict(): void {
    const max = this.o.maxSessions ?? 16;
    while (this.sessions.size > max) {
      const oldest = [...this.sessions.values()].sort((a, b) => a.lastUsed - b.lastUsed)[0];
      this.close(oldest.id);
    }
  }

  private get(id: string): OpenSession {
    const s = this.sessions.get(id);
    if (!s) throw new ApiError('not_found', `playground session ${id} is not open (it may have been closed)`);
    s.lastUsed = Date.now();
    return s;
  }

  private setTest(s: OpenSession, index: number): void {
    const ds = s.dataset;
    if (!ds || !(s.session instanceof ClassifySession))
      throw new ApiError('bad_request', 'this session has no test images');
    if (index >= ds.test.count)
      throw new ApiError(
        'invalid_params',
        `test image ${index} does not exist (the test set has ${ds.test.count})`,
      );
    const hw = ds.width * ds.height;
    s.session.setImage(ds.test.images.subarray(index * hw, (index + 1) * hw));
    s.testIndex = index;
  }

  setInput(id: string, input: PlaygroundInput): Snapshot {
    const s = this.get(id);
    const session = s.session;
    if (input.kind === 'seed') {
      if (!(session instanceof GrowSession))
        throw new ApiError('bad_request', 'only growing runs start from a seed');
      session.setSeed();
    } else if (input.kind === 'test') {
      this.setTest(s, input.index);
    } else {
      if (!(session instanceof ClassifySession))
        throw new ApiError('bad_request', 'only classifiers read a drawn image');
      const raw = Buffer.from(input.pixels, 'base64');
      if (raw.length !== input.width * input.width)
        throw new ApiError(
          'invalid_params',
          `drawn image: ${raw.length} bytes for a ${input.width}x${input.width} image`,
        );
      session.setImage(resizeNearest(new Uint8Array(raw), input.width, session.height, session.width));
      s.testIndex = null;
    }
    session.steps = 0;
    return this.snapshot(s);
  }

  async step(id: string, steps: number): Promise<Snapshot> {
    const s = this.get(id);
    await s.session.step(steps);
    return this.snapshot(s);
  }

  edit(id: string, edit: PlaygroundEdit): Snapshot {
    const s = this.get(id);
    const session = s.session;
    if (edit.kind === 'erase') session.erase(edit.x, edit.y, edit.radius);
    else {
      if (!(session instanceof ClassifySession) || !session.hasAdversary)
        throw new ApiError('bad_request', 'adversaries need an adversarial run: open one in the playground');
      if (edit.kind === 'clearAdversaries') session.clearAdversaries();
      else if (edit.kind === 'sprinkle') session.sprinkleAdversaries(edit.fraction);
      else {
        if (edit.x >= session.width || edit.y >= session.height)
          throw new ApiError(
            'invalid_params',
            `cell (${edit.x}, ${edit.y}) is outside the ${session.width}x${session.height} grid`,
          );
        const cell = edit.y * session.width + edit.x;
        if (edit.on) session.placeAdversaries([cell]);
        else {
          const keep: number[] = [];
          session.adversaries().forEach((v, i) => v && i !== cell && keep.push(i));
          session.clearAdversaries();
          session.placeAdversaries(keep);
        }
      }
    }
    return this.snapshot(s);
  }

  setChannel(id: string, channel: number): Snapshot {
    const s = this.get(id);
    if (channel >= s.session.channels)
      throw new ApiError(
        'invalid_params',
        `channel: the model has ${s.session.channels} channels (0..${s.session.channels - 1})`,
      );
    s.channel = channel;
    return this.snapshot(s);
  }

  close(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    s.session.dispose();
    this.sessions.delete(id);
  }

  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id);
  }

  private frame(s: OpenSession): { bytes: Uint8Array; meta: FrameMeta } {
    const session = s.session;
    const task = s.run.config.task;
    let bytes: Uint8Array;
    if (session instanceof ClassifySession) {
      const readout = session.readout();
      const alive = new Uint8Array(readout.labels.length);
      readout.labels.forEach((l, i) => (alive[i] = l >= 0 ? 1 : 0));
      bytes = encodeCellFrame(session.state(), {
        task,
        samples: session.samples,
        height: session.height,
        width: session.width,
        channels: session.channels,
        classCount: session.numClasses,
        alive,
        adversary: session.hasAdversary ? session.adversaries() : undefined,
        channel: s.channel,
      });
    } else {
      bytes = encodeCellFrame(session.state(), {
        task: 'grow',
        samples: session.samples,
        height: session.height,
        width: session.width,
        channels: session.channels,
        channel: s.channel,
      });
    }
    const meta: FrameMeta = {
      source: s.id,
      task,
      iteration: 0,
      step: session.steps,
      samples: session.samples,
      height: session.height,
      width: session.width,
      channel: s.channel,
      labels: s.testIndex !== null && s.dataset ? [s.dataset.test.labels[s.testIndex]] : undefined,
    };
    return { bytes, meta };
  }

  private snapshot(s: OpenSession): Snapshot {
    const { bytes, meta } = this.frame(s);
    const classCount = s.classNames.length;
    const v = classCount
      ? frameVotes(bytes, 0, meta.height, meta.width, classCount)
      : { votes: [], majority: null, agreement: 0 };
    return {
      state: {
        session: s.id,
        runId: s.run.id,
        task: s.run.config.task,
        width: meta.width,
        height: meta.height,
        channels: s.session.channels,
        classNames: s.classNames,
        step: s.session.steps,
        majorityClass: v.majority,
        agreement: v.agreement,
        votes: v.votes,
        trueClass: meta.labels?.[0] ?? null,
        adversarial: s.session instanceof ClassifySession && s.session.hasAdversary,
      },
      bytes,
      meta,
    };
  }

  /** The exporter's view of a session: its frames from the current state on, one per step. */
  frameSource(id: string): FrameSource {
    const s = this.get(id);
    const first = this.frame(s);
    const frameOf = (x: OpenSession) => this.frame(x);
    return {
      width: first.meta.width,
      height: first.meta.height,
      samples: first.meta.samples,
      task: first.meta.task,
      name: s.run.name,
      classNames: s.classNames,
      frames: (async function* (): AsyncGenerator<SourceFrame> {
        // export works on a copy of the state so the user's session is where they left it
        const saved = s.session.state();
        const savedSteps = s.session.steps;
        try {
          for (;;) {
            const f = frameOf(s);
            yield { step: s.session.steps, frame: f.bytes, meta: f.meta };
            await s.session.step(1);
          }
        } finally {
          s.session.setState(saved);
          s.session.steps = savedSteps;
        }
      })(),
    };
  }

  /** A run's NCA on one test image from step 0 (the panels of a side-by-side export). */
  async runSource(runId: string, testIndex: number): Promise<FrameSource> {
    const { state } = await this.open(runId, 'best');
    if (this.get(state.session).session instanceof ClassifySession)
      this.setInput(state.session, { kind: 'test', index: testIndex });
    const source = this.frameSource(state.session);
    const frames = source.frames;
    const close = () => this.close(state.session);
    return {
      ...source,
      frames: (async function* () {
        try {
          yield* frames;
        } finally {
          close();
        }
      })(),
    };
  }
}

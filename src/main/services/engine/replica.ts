/**
 * Data-parallel compute: a replica runs the forward/backward pass of a shard of the batch and returns
 * the shard's loss and gradients (summed, normalised by the whole batch, so shards add up). The trainer
 * sums them and applies one Adam update; every replica gets the same weights next iteration, so all
 * stay in sync by construction. One replica runs in the trainer's own thread, the others each in a
 * worker thread with its own wasm instance.
 */
import type { Worker } from 'node:worker_threads';
import { tf } from './tf.ts';
import { flatten, unflatten, type ParamSpec } from './params.ts';
import { evaluateShard, trainShard, type ClassifySettings, type ReadoutStats } from './tasks/classify.ts';
import { startWorker } from '../../util/worker.ts';
import { trimGpuBufferPool } from './backends.ts';
import type { BackendName } from '../../../shared/nca-config.ts';

export interface ReplicaSetup {
  settings: ClassifySettings;
  specs: ParamSpec[];
  /** adversarial runs: the frozen classifier's weights (flat); the trained weights are the adversary */
  frozen?: Float32Array;
  backend: BackendName;
}

export interface ShardData {
  /** the shard's samples' grids, concatenated */
  states: Float32Array;
  labels: Int32Array;
  /** seed parts of each sample's random stream, `streamWidth` per sample */
  streams: Int32Array;
  streamWidth: number;
  adversaryMasks?: Uint8Array;
}

export interface GradRequest extends ShardData {
  weights: Float32Array;
  batchTotal: number;
  /** live frames: keep these shard positions' grids after these steps (1-based) */
  capture?: { samples: number[]; steps: number[] };
}

export interface GradResponse extends ReadoutStats {
  loss: number;
  grads: Float32Array;
  states: Float32Array;
  /** per captured step, the captured samples' grids concatenated */
  captured?: Float32Array[];
}

export interface EvalRequest extends ShardData {
  weights: Float32Array;
  steps: number;
}

export interface EvalResponse {
  perStep: ReadoutStats[];
  /** per sample: alive cells' predicted labels at the last step, in the alive cells' row-major order */
  predictions: Int32Array[];
  states: Float32Array;
}

export function splitStates(flat: Float32Array, n: number): Float32Array[] {
  const size = flat.length / Math.max(n, 1);
  return Array.from({ length: n }, (_, i) => flat.slice(i * size, (i + 1) * size));
}

function streamsOf(d: ShardData): number[][] {
  const n = d.labels.length;
  return Array.from({ length: n }, (_, i) =>
    Array.from(d.streams.subarray(i * d.streamWidth, (i + 1) * d.streamWidth)),
  );
}

function masksOf(d: ShardData, hw: number): Uint8Array[] | undefined {
  if (!d.adversaryMasks) return undefined;
  return Array.from({ length: d.labels.length }, (_, i) => d.adversaryMasks!.slice(i * hw, (i + 1) * hw));
}

/** The work of one replica, in whatever thread it runs. */
export class LocalReplica {
  private frozenTensors: tf.Tensor[] | null = null;

  constructor(readonly setup: ReplicaSetup) {
    if (setup.frozen) {
      const vals = unflatten(setup.frozen, setup.specs);
      this.frozenTensors = setup.specs.map((s, i) => tf.tensor(vals[i], s.shape));
    }
  }

  private weights(flat: Float32Array): tf.Tensor[] {
    const vals = unflatten(flat, this.setup.specs);
    return this.setup.specs.map((s, i) => tf.tensor(vals[i], s.shape));
  }

  async grad(req: GradRequest): Promise<GradResponse> {
    const s = this.setup.settings;
    const states = splitStates(req.states, req.labels.length);
    const w = this.weights(req.weights);
    try {
      const r = await trainShard(
        this.setup.specs,
        w,
        s,
        {
          states,
          labels: Array.from(req.labels),
          streams: streamsOf(req),
          batchTotal: req.batchTotal,
          adversaryMasks: masksOf(req, s.height * s.width),
          capture: req.capture,
        },
        this.frozenTensors ? { specs: this.setup.specs, weights: this.frozenTensors } : undefined,
      );
      return {
        loss: r.loss,
        grads: flatten(r.grads ?? []),
        states: flatten(states),
        captured: r.captured,
        correct: r.correct,
        aliveCells: r.aliveCells,
        agreeing: r.agreeing,
        images: r.images,
      };
    } finally {
      tf.dispose(w);
      trimGpuBufferPool();
    }
  }

  /**
   * Forward-only rollout. Without a frozen model the weights are the classifier's; with one (attack
   * evaluation) the frozen weights drive the original cells and `weights` the adversaries.
   */
  async evaluate(req: EvalRequest): Promise<EvalResponse> {
    const s = this.setup.settings;
    const states = splitStates(req.states, req.labels.length);
    const w = this.weights(req.weights);
    try {
      const shard = {
        states,
        labels: Array.from(req.labels),
        streams: streamsOf(req),
        batchTotal: req.labels.length,
        adversaryMasks: masksOf(req, s.height * s.width),
      };
      const r = this.frozenTensors
        ? await evaluateShard(this.setup.specs, this.frozenTensors, s, shard, req.steps, {
            specs: this.setup.specs,
            weights: w,
          })
        : await evaluateShard(this.setup.specs, w, s, shard, req.steps);
      return {
        perStep: r.perStep,
        predictions: r.finalPredictions.map((p) => p.labels),
        states: flatten(states),
      };
    } finally {
      tf.dispose(w);
      trimGpuBufferPool();
    }
  }

  dispose(): void {
    if (this.frozenTensors) tf.dispose(this.frozenTensors);
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** A replica in its own worker thread (own wasm instance). */
export class RemoteReplica {
  private pending: Pending | null = null;
  private failed: Error | null = null;
  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { ok: boolean; value?: unknown; error?: string }) => {
      const p = this.pending;
      this.pending = null;
      // idle replicas do not keep the process alive (a trainer someone forgot to dispose)
      worker.unref();
      if (!p) return;
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`replica: ${m.error}`));
    });
    const fail = (e: Error) => {
      this.failed = e;
      this.pending?.reject(e);
      this.pending = null;
    };
    worker.on('error', (e) => fail(new Error(`replica worker crashed: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`replica worker exited (code ${code})`)));
  }

  static async start(setup: ReplicaSetup): Promise<RemoteReplica> {
    const worker = startWorker(new URL('./replica-worker.ts', import.meta.url), { workerData: setup });
    const r = new RemoteReplica(worker);
    await r.call({ type: 'ready' });
    return r;
  }

  private call<T>(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.pending) return Promise.reject(new Error('replica: a request is already running'));
    return new Promise<T>((resolve, reject) => {
      this.pending = { resolve: resolve as (v: unknown) => void, reject };
      this.worker.ref();
      this.worker.postMessage(msg, transfer);
    });
  }

  grad(req: GradRequest): Promise<GradResponse> {
    return this.call({ type: 'grad', req }, [req.states.buffer as ArrayBuffer]);
  }

  evaluate(req: EvalRequest): Promise<EvalResponse> {
    return this.call({ type: 'eval', req }, [req.states.buffer as ArrayBuffer]);
  }

  async dispose(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * What every trainer keeps between iterations and writes into its checkpoints: the weights, Adam's
 * moments, the iteration count, wall time, the run's seed and the first loss (the reference for the
 * divergence check). Subclasses compute the gradients and add their own state (pool, target).
 */
import type { OptimizerConfig } from '../../../shared/nca-config.ts';
import { adamUpdate, globalNorm, learningRate, newAdamState, type AdamState } from './adam.ts';
import type { BackendInfo } from './backends.ts';
import { CHECKPOINT_FORMAT, decodeCheckpoint, type CheckpointContents } from './checkpoint.ts';
import { DivergedError, EXPLODE_ABSOLUTE, EXPLODE_FACTOR } from './errors.ts';
import { initParams } from './nca.ts';
import { flatten, unflatten, type ParamSpec } from './params.ts';
import { Rng } from './rng.ts';

export abstract class TrainerBase {
  iteration = 0;
  protected wallMs = 0;
  protected firstLoss: number | null = null;
  protected values: Float32Array[];
  protected adam: AdamState;
  /** the run's seed: from the config, or from the checkpoint it resumed */
  protected runSeed: number;

  protected constructor(
    protected readonly specs: ParamSpec[],
    seed: number,
  ) {
    this.runSeed = seed;
    this.values = initParams(specs, new Rng(seed, 0x1417));
    this.adam = newAdamState(this.values);
  }

  abstract readonly task: string;
  abstract readonly backend: BackendInfo;

  get paramCount(): number {
    return this.values.reduce((n, v) => n + v.length, 0);
  }

  weights() {
    return { specs: this.specs, values: this.values.map((v) => v.slice()) };
  }

  /**
   * Refuses a non-finite or exploding loss (DivergedError names the iteration), then takes one Adam
   * step at the scheduled learning rate. The iteration is counted by finishIteration.
   */
  protected applyGradients(
    loss: number,
    grads: Float32Array[],
    optimizer: OptimizerConfig,
  ): { lr: number; gradNorm: number } {
    const gradNorm = globalNorm(grads);
    const next = this.iteration + 1;
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm))
      throw new DivergedError(`loss ${loss}, gradient norm ${gradNorm} at iteration ${next}: diverged`, next);
    this.firstLoss ??= loss;
    if (loss > EXPLODE_ABSOLUTE || loss > EXPLODE_FACTOR * Math.max(this.firstLoss, 1e-3))
      throw new DivergedError(
        `loss ${loss.toPrecision(4)} exploded (first iteration ${this.firstLoss.toPrecision(4)}) at iteration ${next}`,
        next,
      );
    const lr = learningRate(optimizer.lr, optimizer.schedule, this.iteration);
    adamUpdate(this.values, grads, this.adam, lr, optimizer.normalizeGradients);
    return { lr, gradNorm };
  }

  /** Counts the iteration begun at t0 (performance.now()); returns its duration in ms. */
  protected finishIteration(t0: number): number {
    this.iteration++;
    const ms = performance.now() - t0;
    this.wallMs += ms;
    return ms;
  }

  /** The checkpoint fields every trainer writes; the subclass adds its config and its own arrays. */
  protected sharedCheckpoint() {
    return {
      meta: {
        format: CHECKPOINT_FORMAT,
        task: this.task,
        iteration: this.iteration,
        wallMs: this.wallMs,
        seed: this.runSeed,
        adamStep: this.adam.step,
        firstLoss: this.firstLoss,
      },
      arrays: {
        weights: flatten(this.values),
        adamM: flatten(this.adam.m),
        adamV: flatten(this.adam.v),
      },
    };
  }

  /**
   * Decodes a checkpoint of this trainer's task and restores the shared state. `check` sees the
   * decoded checkpoint first and throws if the subclass's arrays do not fit, so a refused
   * checkpoint changes nothing. Returns it for the subclass's own arrays.
   */
  protected restoreShared(bytes: Uint8Array, check?: (ck: CheckpointContents) => void): CheckpointContents {
    const ck = this.decodeFitting(bytes);
    const m = ck.meta as Record<string, unknown>;
    if (m.modelOnly)
      throw new Error(
        'checkpoint: weights only (a shipped model): it can be evaluated or played, not trained on',
      );
    const weights = ck.arrays.weights as Float32Array;
    for (const name of ['adamM', 'adamV'])
      if (ck.arrays[name]?.length !== weights.length)
        throw new Error(`checkpoint: ${name} is missing or does not match the ${weights.length} weights`);
    if (!(ck.arrays.rng instanceof Float64Array)) throw new Error('checkpoint: the RNG state is missing');
    check?.(ck);
    this.values = unflatten(weights, this.specs);
    this.adam = {
      step: m.adamStep as number,
      m: unflatten(ck.arrays.adamM as Float32Array, this.specs),
      v: unflatten(ck.arrays.adamV as Float32Array, this.specs),
    };
    this.runSeed = (m.seed as number) ?? this.runSeed;
    this.iteration = ck.meta.iteration;
    this.wallMs = (m.wallMs as number) ?? 0;
    this.firstLoss = (m.firstLoss as number | null) ?? null;
    return ck;
  }

  /**
   * Loads only the weights (and the iteration and seed, which name the evaluation's streams) from any
   * checkpoint of this task, weights-only ones included: enough to evaluate, not to train on.
   */
  loadWeights(bytes: Uint8Array): void {
    const ck = this.decodeFitting(bytes);
    this.values = unflatten(ck.arrays.weights as Float32Array, this.specs);
    this.runSeed = (ck.meta.seed as number) ?? this.runSeed;
    this.iteration = ck.meta.iteration;
  }

  /** A checkpoint of this trainer's task whose weights fit this model, or an error naming why not. */
  private decodeFitting(bytes: Uint8Array): CheckpointContents {
    const ck = decodeCheckpoint(bytes);
    if (ck.meta.task !== this.task)
      throw new Error(`checkpoint: a ${String(ck.meta.task)} run cannot resume a ${this.task} run`);
    const weights = ck.arrays.weights as Float32Array | undefined;
    if (weights?.length !== this.paramCount)
      throw new Error(`checkpoint: ${weights?.length ?? 0} weights, this model has ${this.paramCount}`);
    return ck;
  }
}

/**
 * In-process trainers. `createTrainer(config, dataset, options)` validates the config and returns a
 * Trainer: step() -> IterationMetrics, evaluate() -> Evaluation, checkpoints, snapshots. The worker
 * (worker.ts) drives one of these; tests and scripts can drive one directly.
 */
import os from 'node:os';
import {
  ClassifyConfigSchema,
  RunConfigSchema,
  type AdversarialConfig,
  type ClassifyConfig,
  type RunConfig,
} from '../../../shared/nca-config.ts';
import type { Evaluation, IterationMetrics } from '../../../shared/metrics.ts';
import { currentBackend, initBackend, type BackendInfo } from './backends.ts';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.ts';
import { checkDataset, image, type EngineDataset } from './dataset.ts';
import { ConfigError } from './errors.ts';
import { classifierParams, type ClassifierArch } from './nca.ts';
import { flatten, unflatten, type ParamSpec } from './params.ts';
import {
  LocalReplica,
  RemoteReplica,
  type EvalRequest,
  type EvalResponse,
  type GradRequest,
  type GradResponse,
  type ReplicaSetup,
} from './replica.ts';
import { Rng } from './rng.ts';
import { TrainerBase } from './trainer-base.ts';
import { freshState, mutateState, type ClassifySettings, type ReadoutStats } from './tasks/classify.ts';
import { adversaryMask, majority } from './tasks/adversarial.ts';

export interface TrainerOptions {
  /** data-parallel threads (overrides config.compute.threads); default config, else the CPU count */
  threads?: number;
  /** adversarial runs: the frozen classifier's checkpoint (bytes from saveCheckpoint) */
  classifierCheckpoint?: Uint8Array;
  /** progress lines (backend choice, etc.) */
  log?: (line: string) => void;
  /** skip backend initialisation (the caller already set one up in this thread) */
  keepBackend?: boolean;
}

export interface StepOptions {
  /** live frames: keep these batch positions' grids after these rollout steps (1-based) */
  capture?: { samples: number[]; steps: number[] };
}

/** The grids of the captured samples after one rollout step, [samples*height*width*channels]. */
export interface CapturedFrame {
  step: number;
  states: Float32Array;
}

export interface Trainer {
  readonly task: RunConfig['task'];
  readonly config: RunConfig;
  readonly backend: BackendInfo;
  readonly threads: number;
  /** completed iterations */
  readonly iteration: number;
  readonly paramCount: number;
  /** grid of one snapshot sample */
  readonly frameShape: { height: number; width: number; channels: number };
  step(options?: StepOptions): Promise<IterationMetrics>;
  /** rollout steps per iteration (classifiers: config.steps) */
  readonly stepsPerIteration?: number;
  /** the last step()'s captured frames, in step order (then forgotten); trainers that cannot capture lack it */
  takeFrames?(): CapturedFrame[];
  evaluate(): Promise<Evaluation>;
  saveCheckpoint(): Uint8Array;
  /** resume training exactly where the checkpoint was (refuses a weights-only checkpoint) */
  restoreCheckpoint(bytes: Uint8Array): void;
  /** take only the weights, iteration and seed of a checkpoint (weights-only ones too): to evaluate */
  loadWeights(bytes: Uint8Array): void;
  /** cell states of the last batch's samples at these batch positions, [n*height*width*channels] */
  snapshot(sampleIndices: number[]): Float32Array;
  /** current weights by name (copies) */
  weights(): { specs: ParamSpec[]; values: Float32Array[] };
  dispose(): Promise<void>;
}

export function parseConfigOrThrow(input: unknown): RunConfig {
  const r = RunConfigSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ConfigError(i.path.join('.') || '(config)', i.message);
  }
  return r.data;
}

/**
 * Checks that need more than the schema (relations between fields, and the dataset's class count
 * when known). Returns `field: reason` lines; empty when the run can start. The training service
 * can call this before starting a run; TrainingWorker.start and createTrainer call it too.
 */
export function preflight(config: RunConfig, numClasses?: number): string[] {
  const errors: string[] = [];
  if (config.task === 'grow') {
    if (config.stepsMax <= config.stepsMin)
      errors.push(`stepsMax: ${config.stepsMax} must be above stepsMin ${config.stepsMin}`);
    if (config.batch > config.poolSize)
      errors.push(`batch: ${config.batch} is larger than poolSize ${config.poolSize}`);
    if (config.damaged > config.batch)
      errors.push(`damaged: ${config.damaged} is larger than batch ${config.batch}`);
    if (config.targetSize + 2 * config.padding > 128)
      errors.push(`padding: targetSize + 2*padding = ${config.targetSize + 2 * config.padding} is above 128`);
    return errors;
  }
  if (config.batch > config.pool.size)
    errors.push(`batch: ${config.batch} is larger than pool.size ${config.pool.size}`);
  if (config.pool.freshFraction + config.pool.mutateFraction > 1)
    errors.push(`pool.mutateFraction: freshFraction + mutateFraction is above 1`);
  if (numClasses !== undefined) {
    if (config.task === 'classify' && config.channels < numClasses + 1)
      errors.push(
        `channels: ${config.channels} channels cannot hold the pixel and ${numClasses} class logits (need at least ${numClasses + 1})`,
      );
    if (config.task === 'adversarial' && config.targetClass >= numClasses)
      errors.push(
        `targetClass: ${config.targetClass} is not a class of ${config.dataset} (${numClasses} classes)`,
      );
  }
  return errors;
}

export async function createTrainer(
  input: unknown,
  dataset: EngineDataset | null,
  options: TrainerOptions = {},
): Promise<Trainer> {
  const config = parseConfigOrThrow(input);
  const problems = preflight(config, config.task === 'grow' ? undefined : dataset?.classNames.length);
  if (problems.length) {
    const [field, ...rest] = problems[0].split(': ');
    throw new ConfigError(field, rest.join(': '));
  }
  const backend = options.keepBackend
    ? (currentBackend() ?? (await initBackend(config.compute.backend, { log: options.log })))
    : await initBackend(config.compute.backend, {
        allowSoftwareGpu: config.compute.allowSoftwareGpu,
        log: options.log,
      });
  options.log?.(`backend ${backend.backend} on ${backend.device}`);
  if (config.task === 'grow') {
    const { GrowTrainer } = await import('./tasks/grow.ts');
    return GrowTrainer.create(config, dataset, backend, options);
  }
  if (!dataset) throw new ConfigError('dataset', 'a classifier run needs a dataset');
  return ClassifyTrainer.create(config, dataset, backend, options);
}

interface PoolSlot {
  state: Float32Array;
  label: number;
  image: number;
  adversary?: Uint8Array;
}

const EVAL_STREAM = 0x7e57;
const ADV_STREAM = 0xad7;

/** Default threads: the CPU count on CPU backends; 1 on a GPU (one device). */
function defaultThreads(config: RunConfig, backend: BackendInfo, options: TrainerOptions): number {
  if (options.threads) return options.threads;
  if (config.compute.threads) return config.compute.threads;
  if (backend.backend !== 'wasm' && backend.backend !== 'cpu') return 1;
  return Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
}

export function classifySettings(
  c: ClassifyConfig | AdversarialConfig,
  ds: { width: number; height: number },
  numClasses: number,
): ClassifySettings {
  const arch: ClassifierArch = {
    channels: c.channels,
    numClasses,
    perception: c.perception as ClassifierArch['perception'],
    hidden: c.hidden,
  };
  return {
    arch,
    steps: c.steps,
    fireRate: c.fireRate,
    residualNoise: c.residualNoise,
    loss: c.loss,
    aliveMode: c.aliveMode,
    aliveThreshold: c.aliveThreshold,
    readout: c.readout ?? 'alive',
    aliveOnly: c.compute.aliveOnly,
    height: ds.height,
    width: ds.width,
  };
}

export class ClassifyTrainer extends TrainerBase implements Trainer {
  readonly task: 'classify' | 'adversarial';
  private rng: Rng;
  private pool: PoolSlot[] = [];
  private lastBatch: Float32Array[] = [];
  private captured: CapturedFrame[] = [];
  private readonly hw: number;
  private readonly trainCount: number;
  private readonly local: LocalReplica;
  private remotes: RemoteReplica[] = [];

  private constructor(
    readonly config: ClassifyConfig | AdversarialConfig,
    private readonly dataset: EngineDataset,
    readonly backend: BackendInfo,
    readonly threads: number,
    private readonly settings: ClassifySettings,
    private readonly frozen: Float32Array | null,
  ) {
    super(classifierParams(settings.arch), config.seed);
    this.task = config.task;
    this.hw = dataset.width * dataset.height;
    this.trainCount = Math.min(dataset.train.count, config.trainSubset ?? Infinity);
    this.rng = new Rng(config.seed, 0x7a1);
    this.local = new LocalReplica(this.replicaSetup());
    for (let i = 0; i < config.pool.size; i++) this.pool.push(this.freshSlot());
  }

  get frameShape() {
    return { height: this.dataset.height, width: this.dataset.width, channels: this.settings.arch.channels };
  }

  private replicaSetup(): ReplicaSetup {
    return {
      settings: this.settings,
      specs: this.specs,
      frozen: this.frozen ?? undefined,
      backend: this.backend.backend,
    };
  }

  static async create(
    config: ClassifyConfig | AdversarialConfig,
    dataset: EngineDataset,
    backend: BackendInfo,
    options: TrainerOptions,
  ): Promise<ClassifyTrainer> {
    let frozen: Float32Array | null = null;
    let archConfig: ClassifyConfig | AdversarialConfig = config;
    const numClasses = dataset.classNames.length;
    if (config.task === 'adversarial') {
      if (!options.classifierCheckpoint)
        throw new ConfigError(
          'classifierRunId',
          'an adversarial run needs the classifier checkpoint to attack',
        );
      const ck = decodeCheckpoint(options.classifierCheckpoint);
      if (ck.meta.task !== 'classify')
        throw new ConfigError('classifierRunId', `the checkpoint is a ${ck.meta.task} run, not a classifier`);
      const cc = ClassifyConfigSchema.parse(ck.meta.config);
      // The adversary has the classifier's architecture; the rest of the schedule is the run's own.
      archConfig = { ...config, channels: cc.channels, perception: cc.perception, hidden: cc.hidden };
      frozen = ck.arrays.weights as Float32Array;
      if (config.targetClass >= numClasses)
        throw new ConfigError(
          'targetClass',
          `${config.targetClass} is not a class of ${dataset.id} (${numClasses} classes)`,
        );
    }
    if (archConfig.channels < numClasses + 1)
      throw new ConfigError(
        'channels',
        `${archConfig.channels} channels cannot hold the pixel and ${numClasses} class logits (need at least ${numClasses + 1})`,
      );
    if (config.batch > config.pool.size)
      throw new ConfigError('batch', `${config.batch} is larger than pool.size ${config.pool.size}`);
    checkDataset(dataset, numClasses, true);
    const settings = classifySettings(archConfig, dataset, numClasses);
    const threads = Math.min(defaultThreads(config, backend, options), config.batch);
    const t = new ClassifyTrainer(archConfig, dataset, backend, threads, settings, frozen);
    if (frozen && frozen.length !== t.paramCount)
      throw new ConfigError(
        'classifierRunId',
        `checkpoint weights (${frozen.length}) do not fit the architecture (${t.paramCount})`,
      );
    try {
      for (let i = 1; i < threads; i++) t.remotes.push(await RemoteReplica.start(t.replicaSetup()));
    } catch (e) {
      await t.dispose();
      throw e;
    }
    return t;
  }

  private label(i: number): number {
    return this.config.task === 'adversarial' ? this.config.targetClass : this.dataset.train.labels[i];
  }

  private freshSlot(): PoolSlot {
    const i = this.rng.int(this.trainCount);
    const slot: PoolSlot = {
      state: freshState(image(this.dataset.train, i, this.hw), this.settings.arch.channels),
      label: this.label(i),
      image: i,
    };
    if (this.config.task === 'adversarial')
      slot.adversary = adversaryMask(this.hw, this.config.adversaryFraction, this.rng);
    return slot;
  }

  /** Split [0, n) into `parts` contiguous ranges, as even as possible. */
  private static ranges(n: number, parts: number): [number, number][] {
    const out: [number, number][] = [];
    let start = 0;
    for (let p = 0; p < parts; p++) {
      const size = Math.floor(n / parts) + (p < n % parts ? 1 : 0);
      out.push([start, start + size]);
      start += size;
    }
    return out.filter(([a, b]) => b > a);
  }

  get stepsPerIteration(): number {
    return this.config.steps;
  }

  takeFrames(): CapturedFrame[] {
    const f = this.captured;
    this.captured = [];
    return f;
  }

  async step(options: StepOptions = {}): Promise<IterationMetrics> {
    const t0 = performance.now();
    const c = this.config;
    const B = c.batch;
    // unique samples in the asked order; unique steps in rollout order (the shards capture them so)
    const capture =
      options.capture?.samples.length && options.capture.steps.length
        ? {
            samples: [...new Set(options.capture.samples)],
            steps: [...new Set(options.capture.steps)]
              .filter((t) => t >= 1 && t <= c.steps)
              .sort((x, y) => x - y),
          }
        : null;
    const idx = this.rng.sample(this.pool.length, B);
    const nFresh = Math.floor(B * c.pool.freshFraction);
    const nMutate = Math.min(B - nFresh, Math.floor(B * c.pool.mutateFraction));
    for (let j = 0; j < nFresh; j++) this.pool[idx[j]] = this.freshSlot();
    for (let j = nFresh; j < nFresh + nMutate; j++) {
      const slot = this.pool[idx[j]];
      const i = this.rng.int(this.trainCount);
      slot.state = mutateState(slot.state, image(this.dataset.train, i, this.hw), this.settings);
      slot.label = this.label(i);
      slot.image = i;
    }
    const slots = idx.map((i) => this.pool[i]);
    const flatW = flatten(this.values);
    const results = await this.runShards<GradRequest, GradResponse>(
      slots,
      (pos) => [this.runSeed, this.iteration, pos],
      (shard, [a, b]) => ({
        ...shard,
        weights: flatW,
        batchTotal: B,
        capture: capture
          ? {
              samples: capture.samples.filter((p) => p >= a && p < b).map((p) => p - a),
              steps: capture.steps,
            }
          : undefined,
      }),
      (r, req) => r.grad(req),
      (req) => this.local.grad(req),
    );
    if (capture) this.captured = this.collectFrames(capture, results, B);
    let loss = 0;
    const grads = new Float32Array(flatW.length);
    const stats: ReadoutStats = { correct: 0, aliveCells: 0, agreeing: 0, images: 0 };
    const finalStates: Float32Array[] = [];
    for (const r of results) {
      loss += r.loss;
      for (let i = 0; i < grads.length; i++) grads[i] += r.grads[i];
      stats.correct += r.correct;
      stats.aliveCells += r.aliveCells;
      stats.agreeing += r.agreeing;
      stats.images += r.images;
      const n = r.states.length / (this.hw * this.settings.arch.channels);
      for (let k = 0; k < n; k++)
        finalStates.push(
          r.states.slice(
            k * this.hw * this.settings.arch.channels,
            (k + 1) * this.hw * this.settings.arch.channels,
          ),
        );
    }
    const { lr, gradNorm } = this.applyGradients(loss, unflatten(grads, this.specs), c.optimizer);
    slots.forEach((s, k) => (s.state = finalStates[k]));
    this.lastBatch = finalStates;
    const ms = this.finishIteration(t0);
    return {
      iteration: this.iteration,
      loss,
      perCellAccuracy: stats.aliveCells ? stats.correct / stats.aliveCells : 0,
      agreement: stats.images ? stats.agreeing / stats.images : 0,
      lr,
      gradNorm,
      iterationMs: ms,
      cellsPerSec: (B * this.hw * c.steps) / (ms / 1000),
      wallMs: this.wallMs,
    };
  }

  /** Shards' captured grids back in the order the samples were asked for (positions past the batch: pool states, as snapshot()). */
  private collectFrames(
    capture: { samples: number[]; steps: number[] },
    results: GradResponse[],
    batch: number,
  ): CapturedFrame[] {
    const size = this.hw * this.settings.arch.channels;
    const parts = ClassifyTrainer.ranges(batch, 1 + this.remotes.length);
    // where each asked sample sits: its shard, and its place among that shard's captured samples
    const where = capture.samples.map((p) => {
      const part = parts.findIndex(([a, b]) => p >= a && p < b);
      if (part < 0) return null;
      const [a, b] = parts[part];
      return { part, k: capture.samples.filter((q) => q >= a && q < b).indexOf(p) };
    });
    return capture.steps.map((step, j) => {
      const states = new Float32Array(capture.samples.length * size);
      where.forEach((w, k) => {
        const grids = w && results[w.part]?.captured?.[j];
        if (grids) states.set(grids.subarray(w.k * size, (w.k + 1) * size), k * size);
        else states.set(this.pool[capture.samples[k] % this.pool.length].state, k * size);
      });
      return { step, states };
    });
  }

  /** Split samples across the replicas (local first), run them concurrently, results in order. */
  private async runShards<Req, Res>(
    slots: { state: Float32Array; label: number; adversary?: Uint8Array }[],
    stream: (pos: number) => number[],
    build: (
      shard: {
        states: Float32Array;
        labels: Int32Array;
        streams: Int32Array;
        streamWidth: number;
        adversaryMasks?: Uint8Array;
      },
      range: [number, number],
    ) => Req,
    remote: (r: RemoteReplica, req: Req) => Promise<Res>,
    local: (req: Req) => Promise<Res>,
  ): Promise<Res[]> {
    const parts = ClassifyTrainer.ranges(slots.length, 1 + this.remotes.length);
    const reqs = parts.map(([a, b]) => {
      const part = slots.slice(a, b);
      const width = stream(0).length;
      const streams = new Int32Array(part.length * width);
      part.forEach((_, k) => streams.set(stream(a + k), k * width));
      return build(
        {
          states: flatten(part.map((s) => s.state)),
          labels: Int32Array.from(part.map((s) => s.label)),
          streams,
          streamWidth: width,
          adversaryMasks: part[0]?.adversary
            ? Uint8Array.from(part.flatMap((s) => Array.from(s.adversary!)))
            : undefined,
        },
        [a, b],
      );
    });
    const pending = reqs.slice(1).map((req, k) => remote(this.remotes[k], req));
    // Run the local share now, while the workers run theirs; always wait for every worker.
    let first: Res | undefined;
    let localError: unknown = null;
    try {
      first = await local(reqs[0]);
    } catch (e) {
      localError = e;
    }
    const rest = await Promise.allSettled(pending);
    if (localError) throw localError;
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return [first as Res, ...rest.map((r) => (r as PromiseFulfilledResult<Res>).value)];
  }

  private async rollout(
    slots: { state: Float32Array; label: number; adversary?: Uint8Array }[],
    steps: number,
    stream: (pos: number) => number[],
    weights: Float32Array,
  ): Promise<EvalResponse> {
    const res = await this.runShards<EvalRequest, EvalResponse>(
      slots,
      stream,
      (shard) => ({ ...shard, weights, steps }),
      (r, req) => r.evaluate(req),
      (req) => this.local.evaluate(req),
    );
    const perStep = res[0].perStep.map((_, t) => {
      const s: ReadoutStats = { correct: 0, aliveCells: 0, agreeing: 0, images: 0 };
      for (const r of res) {
        s.correct += r.perStep[t].correct;
        s.aliveCells += r.perStep[t].aliveCells;
        s.agreeing += r.perStep[t].agreeing;
        s.images += r.perStep[t].images;
      }
      return s;
    });
    const predictions = res.flatMap((r) => r.predictions);
    const size = this.hw * this.settings.arch.channels;
    const states = new Float32Array(slots.length * size);
    let o = 0;
    for (const r of res) {
      states.set(r.states, o);
      o += r.states.length;
    }
    return { perStep, predictions, states };
  }

  async evaluate(): Promise<Evaluation> {
    const t0 = performance.now();
    const c = this.config;
    const test = this.dataset.test.count > 0 ? this.dataset.test : this.dataset.train;
    const n = Math.min(c.evaluation.images, test.count);
    const nc = this.settings.arch.numClasses;
    const C = this.settings.arch.channels;
    const size = this.hw * C;
    const chunk = 64 * Math.max(1, this.threads);
    const perStep: { step: number; perCellAccuracy: number; agreement: number }[] = [];
    const accum: ReadoutStats[] = [];
    const confusionCells = Array.from({ length: nc }, () => new Array<number>(nc).fill(0));
    const confusionImages = Array.from({ length: nc }, () => new Array<number>(nc).fill(0));
    const addSteps = (offset: number, ps: ReadoutStats[]) =>
      ps.forEach((s, t) => {
        const a = (accum[offset + t] ??= { correct: 0, aliveCells: 0, agreeing: 0, images: 0 });
        a.correct += s.correct;
        a.aliveCells += s.aliveCells;
        a.agreeing += s.agreeing;
        a.images += s.images;
      });
    // Classifier weights drive the cells; for adversarial runs the trained weights are the adversary.
    const weights = flatten(this.values);
    const mutate = c.evaluation.mutateSteps > 0 && n > 1;
    for (let start = 0; start < n; start += chunk) {
      const ids = Array.from({ length: Math.min(chunk, n - start) }, (_, k) => start + k);
      const slots = ids.map((i) => ({
        state: freshState(image(test, i, this.hw), C),
        label: test.labels[i],
      }));
      const r1 = await this.rollout(
        slots,
        c.evaluation.steps,
        (pos) => [this.runSeed, EVAL_STREAM, ids[pos], 0],
        this.evalWeights(weights),
      );
      addSteps(0, r1.perStep);
      r1.predictions.forEach((pred, k) => {
        const truth = slots[k].label;
        for (const p of pred) confusionCells[truth][p]++;
        const m = majority(pred, nc);
        if (m >= 0) confusionImages[truth][m]++;
      });
      if (mutate) {
        const mutated = ids.map((i, k) => {
          const j = (i + 1) % n;
          return {
            state: mutateState(
              r1.states.subarray(k * size, (k + 1) * size),
              image(test, j, this.hw),
              this.settings,
            ),
            label: test.labels[j],
          };
        });
        const r2 = await this.rollout(
          mutated,
          c.evaluation.mutateSteps,
          (pos) => [this.runSeed, EVAL_STREAM, ids[pos], 1],
          this.evalWeights(weights),
        );
        addSteps(c.evaluation.steps, r2.perStep);
      }
    }
    accum.forEach((s, t) =>
      perStep.push({
        step: t + 1,
        perCellAccuracy: s.aliveCells ? s.correct / s.aliveCells : 0,
        agreement: s.images ? s.agreeing / s.images : 0,
      }),
    );
    const atEnd = perStep[c.evaluation.steps - 1];
    const perClassAccuracy = confusionCells.map((row, k) => {
      const total = row.reduce((a, b) => a + b, 0);
      return total ? row[k] / total : 0;
    });
    const ev: Evaluation = {
      iteration: this.iteration,
      images: n,
      perStep,
      mutationStep: mutate ? c.evaluation.steps : undefined,
      perCellAccuracy: atEnd.perCellAccuracy,
      agreement: atEnd.agreement,
      perClassAccuracy,
      confusionCells,
      confusionImages,
      durationMs: 0,
    };
    if (c.task === 'adversarial') ev.attackSuccess = await this.attackSuccess(c, n);
    ev.durationMs = performance.now() - t0;
    this.wallMs += ev.durationMs;
    return ev;
  }

  /** Classifier runs evaluate their weights; adversarial runs evaluate the frozen classifier alone. */
  private evalWeights(weights: Float32Array): Float32Array {
    return this.frozen ? this.frozenOnlyWeights() : weights;
  }

  private frozenOnlyWeights(): Float32Array {
    // With no adversary mask the adversary's weights are unused; the frozen model drives every cell.
    return flatten(this.values);
  }

  /** Share of test images (true class != target) whose alive cells' majority turns to the target. */
  private async attackSuccess(
    c: AdversarialConfig,
    n: number,
  ): Promise<{ fraction: number; successRate: number }[]> {
    const test = this.dataset.test.count > 0 ? this.dataset.test : this.dataset.train;
    const C = this.settings.arch.channels;
    const nc = this.settings.arch.numClasses;
    const ids = Array.from({ length: n }, (_, i) => i).filter((i) => test.labels[i] !== c.targetClass);
    const out: { fraction: number; successRate: number }[] = [];
    for (const p of c.attackFractions) {
      let success = 0;
      const chunk = 64 * Math.max(1, this.threads);
      for (let start = 0; start < ids.length; start += chunk) {
        const part = ids.slice(start, start + chunk);
        const slots = part.map((i) => ({
          state: freshState(image(test, i, this.hw), C),
          label: c.targetClass,
          adversary: adversaryMask(this.hw, p, new Rng(this.runSeed, ADV_STREAM, i, Math.round(p * 1e6))),
        }));
        const r = await this.rollout(
          slots,
          c.evaluation.steps,
          (pos) => [this.runSeed, EVAL_STREAM, part[pos], 2],
          flatten(this.values),
        );
        for (const pred of r.predictions) if (majority(pred, nc) === c.targetClass) success++;
      }
      out.push({ fraction: p, successRate: ids.length ? success / ids.length : 0 });
    }
    return out;
  }

  saveCheckpoint(): Uint8Array {
    const C = this.settings.arch.channels;
    const poolStates = new Float32Array(this.pool.length * this.hw * C);
    this.pool.forEach((s, i) => poolStates.set(s.state, i * this.hw * C));
    const shared = this.sharedCheckpoint();
    const arrays: Record<string, Float32Array | Int32Array | Uint8Array | Float64Array> = {
      ...shared.arrays,
      poolStates,
      poolLabels: Int32Array.from(this.pool.map((s) => s.label)),
      poolImages: Int32Array.from(this.pool.map((s) => s.image)),
      rng: this.rng.getState(),
    };
    if (this.config.task === 'adversarial') {
      arrays.poolAdversary = Uint8Array.from(this.pool.flatMap((s) => Array.from(s.adversary!)));
      arrays.frozen = this.frozen!;
    }
    return encodeCheckpoint({
      meta: {
        ...shared.meta,
        config: this.config,
        dataset: this.dataset.id,
        numClasses: this.settings.arch.numClasses,
        height: this.dataset.height,
        width: this.dataset.width,
        params: this.specs.map((s) => ({ name: s.name, shape: s.shape })),
        backend: this.backend.backend,
      },
      arrays,
    });
  }

  restoreCheckpoint(bytes: Uint8Array): void {
    const C = this.settings.arch.channels;
    const ck = this.restoreShared(bytes, (ck) => {
      const states = ck.arrays.poolStates as Float32Array | undefined;
      const n = ck.arrays.poolLabels?.length ?? 0;
      if (states?.length !== n * this.hw * C)
        throw new Error(
          `checkpoint: pool states do not fit a ${this.dataset.width}x${this.dataset.height}x${C} grid`,
        );
      if (ck.arrays.poolImages?.length !== n)
        throw new Error('checkpoint: the pool image indices are missing');
    });
    const poolStates = ck.arrays.poolStates as Float32Array;
    const labels = ck.arrays.poolLabels as Int32Array;
    const images = ck.arrays.poolImages as Int32Array;
    const adv = ck.arrays.poolAdversary as Uint8Array | undefined;
    this.pool = Array.from(labels, (label, i) => ({
      state: poolStates.slice(i * this.hw * C, (i + 1) * this.hw * C),
      label,
      image: images[i],
      adversary: adv ? adv.slice(i * this.hw, (i + 1) * this.hw) : undefined,
    }));
    this.rng.setState(ck.arrays.rng as Float64Array);
    this.lastBatch = [];
  }

  snapshot(sampleIndices: number[]): Float32Array {
    const size = this.hw * this.settings.arch.channels;
    const out = new Float32Array(sampleIndices.length * size);
    sampleIndices.forEach((i, k) => {
      const s = this.lastBatch[i] ?? this.pool[i % this.pool.length]?.state;
      if (s) out.set(s, k * size);
    });
    return out;
  }

  async dispose(): Promise<void> {
    this.local.dispose();
    await Promise.all(this.remotes.map((r) => r.dispose()));
    this.remotes = [];
  }
}

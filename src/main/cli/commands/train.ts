/**
 * `nca train` and `nca eval`: headless training and evaluation for servers and scripts. Runs go into
 * the same store as the app's, so the desktop app and browser mode show them (also while they train).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { PRESETS, presetConfig } from '../../../shared/presets.ts';
import {
  attackInheritance,
  parseRunConfig,
  type RunConfig,
  type RunConfigInput,
} from '../../../shared/nca-config.ts';
import { ApiError } from '../../../shared/contract.ts';
import type { Evaluation, IterationMetrics } from '../../../shared/metrics.ts';
import type { RunStatus, RunSummary } from '../../../shared/runs.ts';
import { DatasetService } from '../../services/datasets/service.ts';
import { RunStore } from '../../services/store/index.ts';
import { TrainingService, type TrainingEventSink } from '../../services/training/service.ts';
import { evaluateCheckpoint } from '../../services/training/evaluate.ts';
import type { Logger } from '../../util/log.ts';
import { CliUsageError, type CliCommand, type CliContext } from '../types.ts';

const TRAIN_USAGE = [
  'Usage: npm run nca -- train (--preset NAME | --config FILE | --resume ID | --fork ID) [options] [--data-dir DIR] [--json]',
  '',
  '  --preset NAME       start from a preset: ' + PRESETS.map((p) => p.id).join(', '),
  '  --config FILE       a JSON run configuration (validated; defaults fill what it leaves out)',
  '  --resume ID         continue a stopped, interrupted, failed or diverged run from its latest checkpoint',
  '  --fork ID           continue run ID as a new run from a checkpoint, with changes (--set, --iterations);',
  '                      its weights, optimiser state and pool carry over, the parent run stays as it was',
  '  --checkpoint C      with --fork: latest (default), best or a checkpoint id',
  '  --dataset D         override the dataset (classifiers)',
  '  --iterations N      override the number of iterations; with --resume: raise the total (a completed run too)',
  '  --classifier ID     adversarial runs: the classifier run to attack',
  '  --seed N            override the seed',
  '  --threads N         data-parallel worker threads (default: the CPU count)',
  '  --set PATH=VALUE    override any field, e.g. --set evaluation.every=1000 --set compute.aliveOnly=false',
  '  --name NAME         the run name (default: preset and time)',
  '',
  'Progress goes to stderr; with --json one JSON object on stdout: runId, status, iterations, backend,',
  'final / best metrics (perCellAccuracy, agreement, loss) and the last evaluation. Ctrl+C stops the',
  'run cleanly with a checkpoint (resume it with --resume).',
].join('\n');

const EVAL_USAGE = [
  'Usage: npm run nca -- eval --run ID [--checkpoint best|latest|CHECKPOINT_ID] [--images N]',
  '                           [--split test|train] [--save] [--json]',
  '',
  'Evaluates a run on its held-out test split: per-cell accuracy and total agreement per step',
  '(reported at step 20 and at the last step before the mutation), per-class accuracy, confusion',
  'matrices. --save stores the evaluation with the run (test split only). --split train evaluates',
  'on the first N training images instead: against the test figures, the generalisation gap.',
].join('\n');

/** "a.b.c=value" -> nested object, value parsed as JSON when it is JSON, else kept as a string. */
export function applySet(target: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new CliUsageError(`--set needs PATH=VALUE, not "${assignment}"`);
  const keys = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare string such as a dataset id
  }
  let obj = target;
  for (const k of keys.slice(0, -1)) {
    if (typeof obj[k] !== 'object' || obj[k] === null) obj[k] = {};
    obj = obj[k] as Record<string, unknown>;
  }
  obj[keys[keys.length - 1]] = value;
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new CliUsageError(`--${name} must be a non-negative integer, not "${v}"`);
  return n;
}

const pct = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(1)}%`;

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

function stepMetric(e: Evaluation, step: number) {
  const p = e.perStep.find((x) => x.step === step);
  return p ? { perCellAccuracy: p.perCellAccuracy, agreement: p.agreement } : null;
}

export function evaluationSummary(e: Evaluation) {
  const lastBefore = e.mutationStep ?? e.perStep[e.perStep.length - 1]?.step ?? 0;
  return {
    iteration: e.iteration,
    images: e.images,
    perCellAccuracy: e.perCellAccuracy,
    agreement: e.agreement,
    step20: stepMetric(e, 20),
    [`step${lastBefore}`]: stepMetric(e, lastBefore),
    afterMutation: e.mutationStep !== undefined ? stepMetric(e, e.perStep[e.perStep.length - 1].step) : null,
    perClassAccuracy: e.perClassAccuracy,
    loss: e.loss,
    attackSuccess: e.attackSuccess,
  };
}

function quietLogger(ctx: CliContext): Logger {
  return {
    info: () => {},
    warn: (m) => ctx.stderr(`warning: ${m}`),
    error: (m) => ctx.stderr(`error: ${m}`),
  };
}

function resultJson(summary: RunSummary, last: IterationMetrics | null, evaluation: Evaluation | null) {
  return {
    runId: summary.id,
    name: summary.name,
    status: summary.status,
    message: summary.statusMessage,
    iterations: summary.lastIteration ?? 0,
    backend: summary.backend,
    device: summary.device,
    durationMs: summary.durationMs,
    final: last
      ? { perCellAccuracy: last.perCellAccuracy, agreement: last.agreement, loss: last.loss }
      : null,
    best: {
      perCellAccuracy: summary.bestEvalAccuracy ?? summary.bestPerCellAccuracy,
      agreement: summary.bestEvalAgreement ?? summary.bestAgreement,
      loss: summary.bestLoss,
    },
    evaluation: evaluation ? evaluationSummary(evaluation) : null,
  };
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'train a run headless (preset, config file or resume), progress on stderr',
  usage: TRAIN_USAGE,
  async run(args, ctx) {
    let values: Record<string, string | string[] | undefined>;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          preset: { type: 'string' },
          config: { type: 'string' },
          resume: { type: 'string' },
          fork: { type: 'string' },
          checkpoint: { type: 'string' },
          dataset: { type: 'string' },
          iterations: { type: 'string' },
          classifier: { type: 'string' },
          seed: { type: 'string' },
          threads: { type: 'string' },
          set: { type: 'string', multiple: true },
          name: { type: 'string' },
        },
        strict: true,
      }));
    } catch (err) {
      throw new CliUsageError(`${(err as Error).message}\n\n${TRAIN_USAGE}`);
    }
    const sources = ['preset', 'config', 'resume', 'fork'].filter((k) => values[k] !== undefined);
    if (sources.length !== 1)
      throw new CliUsageError(`give exactly one of --preset, --config, --resume or --fork\n\n${TRAIN_USAGE}`);
    if (values.checkpoint !== undefined && !values.fork)
      throw new CliUsageError(`--checkpoint goes with --fork\n\n${TRAIN_USAGE}`);

    /** --dataset, --iterations, --classifier, --seed and --set, for a new run and for a fork alike */
    const applyOverrides = (input: Record<string, unknown>): void => {
      if (values.dataset) input.dataset = values.dataset;
      if (values.iterations) input.iterations = int('iterations', values.iterations as string);
      if (values.classifier) input.classifierRunId = values.classifier;
      if (values.seed) input.seed = int('seed', values.seed as string);
      for (const s of (values.set as string[] | undefined) ?? []) applySet(input, s);
    };

    const store = RunStore.open(ctx.dataDir);
    /**
     * A new attack runs on the classifier's network and cells (ATTACK_INHERITS), as the New-run form
     * does: over a preset's values, under a config file's own. --dataset and --set still win.
     */
    const inheritFromClassifier = (input: Record<string, unknown>, keepGiven: boolean): void => {
      const id = (values.classifier as string | undefined) ?? input.classifierRunId;
      if (input.task !== 'adversarial' || typeof id !== 'string' || !id) return;
      let classifier;
      try {
        classifier = store.getRun(id);
      } catch {
        return; // the service refuses the run naming the missing classifier
      }
      if (classifier.config.task !== 'classify') return;
      const inherited = attackInheritance(classifier.config as unknown as Record<string, unknown>);
      for (const [k, v] of Object.entries(inherited)) if (!keepGiven || input[k] === undefined) input[k] = v;
    };
    const datasets = new DatasetService({ dataDir: ctx.dataDir });
    let last: IterationMetrics | null = null;
    let lastEval: Evaluation | null = null;
    let lastPrint = 0;
    let runId = '';
    let total = 0;
    const sink: TrainingEventSink = {
      isWatched: () => false,
      emit: (event, data) => {
        if (event === 'run.metrics') {
          const rows = (data as { rows: IterationMetrics[] }).rows;
          last = rows[rows.length - 1] ?? last;
          const now = Date.now();
          if (last && (now - lastPrint > 2000 || last.iteration === total)) {
            lastPrint = now;
            const eta = ((total - last.iteration) * last.iterationMs) / 1000;
            ctx.stderr(
              `iter ${last.iteration}/${total}  loss ${last.loss.toPrecision(4)}  acc ${pct(last.perCellAccuracy)}  agree ${pct(
                last.agreement,
              )}  ${last.iterationMs.toFixed(0)} ms/it  ETA ${fmtTime(eta)}`,
            );
          }
        } else if (event === 'run.evaluation') {
          lastEval = (data as { evaluation: Evaluation }).evaluation;
          const s = evaluationSummary(lastEval);
          ctx.stderr(
            `eval @${lastEval.iteration} on ${lastEval.images} test images: per-cell ${pct(s.perCellAccuracy)}, agreement ${pct(
              s.agreement,
            )}${s.step20 ? ` (step 20: ${pct(s.step20.perCellAccuracy)} / ${pct(s.step20.agreement)})` : ''}`,
          );
        } else if (event === 'run.status') {
          const d = data as { status: RunStatus; message?: string | null };
          ctx.stderr(`run ${runId}: ${d.status}${d.message ? ` (${d.message})` : ''}`);
        }
      },
    };
    const training = new TrainingService({
      store,
      dataDir: ctx.dataDir,
      events: sink,
      log: quietLogger(ctx),
      classNames: async (id) => (await datasets.entry(id)).classes.map((c) => c.name),
      threads: int('threads', values.threads as string | undefined),
    });
    try {
      let config: RunConfig;
      if (values.resume) {
        runId = values.resume as string;
        if (values.iterations) store.extendRun(runId, int('iterations', values.iterations as string)!);
        config = store.getRun(runId).config;
        total = config.iterations;
        ctx.stderr(`resuming run ${runId}`);
        await training.start(runId);
      } else if (values.fork) {
        const parent = store.getRun(values.fork as string);
        const input = structuredClone(parent.config) as unknown as Record<string, unknown>;
        applyOverrides(input);
        let run;
        try {
          run = await training.fork({
            parentId: parent.id,
            checkpoint: (values.checkpoint as string | undefined) ?? 'latest',
            config: input as RunConfigInput,
            name: values.name as string | undefined,
            start: false,
          });
        } catch (err) {
          if (err instanceof ApiError && err.code === 'invalid_params')
            throw new CliUsageError(
              `cannot continue run ${parent.id} with this configuration:\n  ${err.message.split('\n').join('\n  ')}`,
            );
          throw err;
        }
        runId = run.id;
        config = run.config;
        total = config.iterations;
        ctx.stderr(
          `run ${runId} (${run.name}): continues run ${parent.id} from iteration ${store.getSummary(runId).lastIteration ?? 0}`,
        );
        await training.start(runId);
      } else {
        let input: Record<string, unknown>;
        if (values.preset) {
          const p = PRESETS.find((x) => x.id === values.preset);
          if (!p)
            throw new CliUsageError(
              `unknown preset "${values.preset}" (known: ${PRESETS.map((x) => x.id).join(', ')})`,
            );
          input = structuredClone(p.config) as Record<string, unknown>;
        } else {
          const file = values.config as string;
          try {
            input = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
          } catch (err) {
            throw new CliUsageError(`cannot read the config ${file}: ${(err as Error).message}`);
          }
        }
        inheritFromClassifier(input, !values.preset);
        applyOverrides(input);
        if (values.preset && !values.set && !values.config) presetConfig(values.preset as string, input); // names the preset in errors
        const parsed = parseRunConfig(input);
        if (!parsed.ok) throw new CliUsageError(`invalid configuration:\n  ${parsed.errors.join('\n  ')}`);
        config = parsed.config;
        total = config.iterations;
        const name =
          (values.name as string) ??
          `${values.preset ?? 'run'} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
        const run = await training.create({ name, config, start: false });
        runId = run.id;
        ctx.stderr(
          `run ${runId} (${name}): ${config.task} on ${config.task === 'grow' ? 'an image' : config.dataset}, ${total} iterations`,
        );
        await training.start(runId);
      }
      const stopOnSignal = () => {
        ctx.stderr('stopping after this iteration (a checkpoint is saved; resume with --resume)...');
        void training.stop(runId).catch(() => undefined);
      };
      ctx.signal.addEventListener('abort', stopOnSignal, { once: true });
      const status = await training.ended(runId);
      ctx.signal.removeEventListener('abort', stopOnSignal);
      const summary = store.getSummary(runId);
      const evaluation = lastEval ?? store.latestEvaluation(runId);
      if (ctx.json) ctx.stdout(JSON.stringify(resultJson(summary, last, evaluation)));
      else {
        ctx.stdout(
          `run ${runId} ${status} after ${summary.lastIteration ?? 0} iterations on ${summary.backend ?? '?'}` +
            (evaluation
              ? `: per-cell accuracy ${pct(evaluation.perCellAccuracy)}, agreement ${pct(evaluation.agreement)}`
              : ''),
        );
      }
      return status === 'completed' || status === 'stopped' ? 0 : 1;
    } finally {
      await training.shutdown();
      store.close();
    }
  },
};

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'evaluate a run checkpoint on its test split (per-step accuracy and agreement)',
  usage: EVAL_USAGE,
  async run(args, ctx) {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          run: { type: 'string' },
          checkpoint: { type: 'string', default: 'best' },
          images: { type: 'string' },
          threads: { type: 'string' },
          split: { type: 'string', default: 'test' },
          save: { type: 'boolean', default: false },
        },
        strict: true,
      }));
    } catch (err) {
      throw new CliUsageError(`${(err as Error).message}\n\n${EVAL_USAGE}`);
    }
    if (!values.run) throw new CliUsageError(`--run is required\n\n${EVAL_USAGE}`);
    const split = values.split;
    if (split !== 'test' && split !== 'train')
      throw new CliUsageError(`--split must be test or train, not "${String(split)}"\n\n${EVAL_USAGE}`);
    // a run's stored evaluations are all test-split figures (its curves, its best checkpoint)
    if (split === 'train' && values.save)
      throw new CliUsageError('--save stores test-split evaluations only; drop it with --split train');
    const store = RunStore.open(ctx.dataDir);
    try {
      const run = store.getRun(values.run as string);
      const checkpoint = store.loadCheckpoint(run.id, values.checkpoint as string);
      const classifier =
        run.config.task === 'adversarial'
          ? store.loadCheckpoint(run.config.classifierRunId, 'best').data
          : undefined;
      ctx.stderr(`evaluating run ${run.id} at iteration ${checkpoint.iteration}...`);
      const evaluation = await evaluateCheckpoint({
        config: run.config,
        checkpoint: checkpoint.data,
        classifierCheckpoint: classifier,
        dataDir: ctx.dataDir,
        images: int('images', values.images as string | undefined),
        threads: int('threads', values.threads as string | undefined),
        split,
      });
      if (values.save) store.addEvaluation(run.id, evaluation);
      const s = evaluationSummary(evaluation);
      if (ctx.json) ctx.stdout(JSON.stringify({ runId: run.id, checkpoint: checkpoint.id, split, ...s }));
      else
        ctx.stdout(
          `run ${run.id} @${evaluation.iteration} on ${evaluation.images} ${
            split === 'train' ? 'training' : 'test'
          } images: per-cell accuracy ${pct(s.perCellAccuracy)}, agreement ${pct(s.agreement)}` +
            (s.step20 ? ` (step 20: ${pct(s.step20.perCellAccuracy)} / ${pct(s.step20.agreement)})` : ''),
        );
      return 0;
    } finally {
      store.close();
    }
  },
};

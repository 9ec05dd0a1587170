/**
 * Training worker thread: drives one Trainer, reports metrics / evaluations / checkpoints / frames,
 * obeys pause / resume / stop / checkpoint-now between iterations. Started by TrainingWorker.
 */
import { parentPort } from 'node:worker_threads';
import { workerPayload } from '../../util/worker-data.ts';
import { createTrainer, type Trainer } from './trainer.ts';
import { loadEngineDataset, type EngineDataset } from './dataset.ts';
import { DivergedError } from './errors.ts';
import { isModelOnly } from './checkpoint.ts';
import { describeEngineError } from './backends.ts';
import type { CheckpointMessage, FromWorker, RunStatus, ToWorker, WorkerInit } from './protocol.ts';

const init = workerPayload<WorkerInit>();
const port = parentPort!;
let trainer: Trainer | null = null;
let status: RunStatus = 'starting';
let stopRequested = false;
let paused = false;
let wake: (() => void) | null = null;
let frames = init.frames;
const checkpointRequests: number[] = [];

function post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

function setStatus(s: RunStatus, message?: string): void {
  status = s;
  post({ type: 'status', status: s, message, iteration: trainer?.iteration ?? 0 });
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'pause') paused = true;
  else if (m.type === 'resume') paused = false;
  else if (m.type === 'stop') stopRequested = true;
  else if (m.type === 'checkpoint') checkpointRequests.push(m.id);
  else if (m.type === 'frames') frames = m.frames;
  wake?.();
});

/** Let queued messages in (pause/stop/checkpoint) without slowing the loop down. */
const yieldToMessages = () => new Promise<void>((r) => setImmediate(r));

/** the iteration last saved, so one state is not saved twice (evaluated and periodic, say) */
let savedAt = -1;

function postCheckpoint(reason: CheckpointMessage['reason'], id?: number) {
  const bytes = trainer!.saveCheckpoint();
  savedAt = trainer!.iteration;
  post({ type: 'checkpoint', bytes, iteration: trainer!.iteration, reason, id }, [
    bytes.buffer as ArrayBuffer,
  ]);
}

async function evaluate(): Promise<void> {
  const ev = await trainer!.evaluate();
  post({ type: 'evaluation', evaluation: ev });
  // every evaluated state is saved: the store scores it (the run's bestBy) and keeps the best one
  if (trainer!.config.checkpoints.keepBest) postCheckpoint('evaluated');
}

let lastFrame = 0;
/** running mean of an iteration's wall time, for how many frames one iteration should yield */
let iterationMs = 0;

/**
 * Which rollout steps of the next iteration to keep as frames: as many as the frame rate fits in an
 * iteration's time, evenly spread and ending at the last step; none while frames are off. Iterations
 * faster than the frame rate give their last step now and then.
 */
function framesToCapture(now: number): { samples: number[]; steps: number[] } | null {
  const steps = trainer!.stepsPerIteration;
  if (frames.maxPerSecond <= 0 || !frames.samples.length || !trainer!.takeFrames || !steps) return null;
  const perIteration = Math.min(steps, Math.floor((iterationMs * frames.maxPerSecond) / 1000));
  if (perIteration < 1) {
    if (now - lastFrame < 1000 / frames.maxPerSecond) return null;
    lastFrame = now;
    return { samples: [...new Set(frames.samples)], steps: [steps] };
  }
  lastFrame = now;
  const chosen = Array.from({ length: perIteration }, (_, i) => Math.round(((i + 1) * steps) / perIteration));
  return { samples: [...new Set(frames.samples)], steps: [...new Set(chosen)] };
}

function postFrame(iteration: number, step: number, states: Float32Array, samples: number[]): void {
  const s = trainer!.frameShape;
  post({ type: 'frame', iteration, step, buffer: states.buffer as ArrayBuffer, samples, ...s }, [
    states.buffer as ArrayBuffer,
  ]);
}

/** The frames of the iteration just done, in step order (the main side spaces them out in time). */
function postCapturedFrames(samples: number[]): void {
  for (const f of trainer!.takeFrames!()) postFrame(trainer!.iteration, f.step, f.states, samples);
}

async function main(): Promise<void> {
  let dataset: EngineDataset | null = null;
  if (init.dataset.kind === 'id')
    dataset = await loadEngineDataset(init.dataset.id, init.dataset.dataDir, init.dataset.env);
  else if (init.dataset.kind === 'data') dataset = init.dataset.data;
  trainer = await createTrainer(init.config, dataset, {
    threads: init.threads,
    classifierCheckpoint: init.classifierCheckpoint,
    log: (line) => post({ type: 'log', line }),
  });
  // a weights-only checkpoint (a shipped or shared model, forked to fine-tune): its weights, with a
  // fresh Adam state and pool; the service refuses it anywhere else
  if (init.checkpoint)
    if (isModelOnly(init.checkpoint)) trainer.loadWeights(init.checkpoint);
    else trainer.restoreCheckpoint(init.checkpoint);
  post({ type: 'backend', info: trainer.backend, threads: trainer.threads, paramCount: trainer.paramCount });
  setStatus('running');
  const c = trainer.config;
  while (trainer.iteration < c.iterations) {
    await yieldToMessages();
    while (checkpointRequests.length) postCheckpoint('requested', checkpointRequests.shift());
    if (stopRequested) break;
    if (paused) {
      setStatus('paused');
      while (paused && !stopRequested) {
        await new Promise<void>((r) => (wake = r));
        wake = null;
        while (checkpointRequests.length) postCheckpoint('requested', checkpointRequests.shift());
      }
      if (stopRequested) break;
      setStatus('running');
    }
    if (init.crashForTest && trainer.iteration === init.crashForTest.at) {
      if (init.crashForTest.kind === 'exit') process.exit(3);
      setImmediate(() => {
        throw new Error('injected crash (test)');
      });
      await new Promise(() => {});
    }
    const iterationStart = performance.now();
    const capture = framesToCapture(iterationStart);
    const m = await trainer.step(capture ? { capture } : undefined);
    post({ type: 'metrics', metrics: m });
    iterationMs =
      iterationMs === 0
        ? performance.now() - iterationStart
        : 0.8 * iterationMs + 0.2 * (performance.now() - iterationStart);
    if (capture) postCapturedFrames(capture.samples);
    else if (
      frames.maxPerSecond > 0 &&
      !trainer.takeFrames &&
      iterationStart - lastFrame >= 1000 / frames.maxPerSecond
    ) {
      // trainers that cannot capture inside the rollout (growing): the state at the iteration's end
      lastFrame = iterationStart;
      postFrame(
        trainer.iteration,
        trainer.stepsPerIteration ?? 0,
        trainer.snapshot(frames.samples),
        frames.samples,
      );
    }
    const done = trainer.iteration >= c.iterations;
    if (trainer.iteration % c.evaluation.every === 0 && !done) await evaluate();
    if (trainer.iteration % c.checkpoints.every === 0 && !done && savedAt !== trainer.iteration)
      postCheckpoint('periodic');
  }
  while (checkpointRequests.length) postCheckpoint('requested', checkpointRequests.shift());
  if (!stopRequested) await evaluate();
  if (savedAt !== trainer.iteration) postCheckpoint('final');
  setStatus(stopRequested ? 'stopped' : 'completed');
}

main()
  .catch((e: unknown) => {
    if (e instanceof DivergedError) {
      // The trainer refuses the update that diverged, so this checkpoint is the last good state.
      if (trainer) postCheckpoint('diverged');
      setStatus('diverged', e.message);
    } else setStatus('failed', describeEngineError(e));
  })
  .finally(async () => {
    await trainer?.dispose().catch(() => {});
    port.close();
  });

void status;

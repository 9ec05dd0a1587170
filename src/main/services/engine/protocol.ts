/** Messages between a TrainingWorker handle (main side) and its worker thread (worker.ts). */
import type { RunConfig } from '../../../shared/nca-config.ts';
import type { Evaluation, IterationMetrics } from '../../../shared/metrics.ts';
import type { BackendInfo } from './backends.ts';
import type { EngineDataset } from './dataset.ts';

export type RunStatus = 'starting' | 'running' | 'paused' | 'completed' | 'stopped' | 'diverged' | 'failed';

export interface FrameOptions {
  /** batch positions of the samples to stream (default [0]) */
  samples?: number[];
  /** frames per second at most (default 30); 0 turns streaming off */
  maxPerSecond?: number;
}

export interface WorkerInit {
  config: RunConfig;
  dataset:
    | { kind: 'id'; id: string; dataDir: string; env?: Record<string, string> }
    | { kind: 'data'; data: EngineDataset }
    | { kind: 'none' };
  checkpoint?: Uint8Array;
  classifierCheckpoint?: Uint8Array;
  threads?: number;
  frames: Required<FrameOptions>;
  /** tests only: crash the worker at this iteration */
  crashForTest?: { at: number; kind: 'throw' | 'exit' };
}

export type ToWorker =
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'checkpoint'; id: number }
  | { type: 'frames'; frames: Required<FrameOptions> };

export interface FrameMessage {
  type: 'frame';
  /** the iteration whose rollout this frame shows (the trainer's count once that iteration is done) */
  iteration: number;
  /** the rollout step the state is after (1..steps; classifiers show several per iteration) */
  step: number;
  /** Float32 [samples, height, width, channels] */
  buffer: ArrayBuffer;
  samples: number[];
  height: number;
  width: number;
  channels: number;
}

export interface CheckpointMessage {
  type: 'checkpoint';
  bytes: Uint8Array;
  iteration: number;
  /** evaluated: the state an evaluation just scored (a candidate for the run's best checkpoint) */
  reason: 'periodic' | 'evaluated' | 'requested' | 'final' | 'diverged';
  /** the request this answers (checkpointNow) */
  id?: number;
}

export type FromWorker =
  | { type: 'backend'; info: BackendInfo; threads: number; paramCount: number }
  | { type: 'status'; status: RunStatus; message?: string; iteration: number }
  | { type: 'metrics'; metrics: IterationMetrics }
  | { type: 'evaluation'; evaluation: Evaluation }
  | CheckpointMessage
  | FrameMessage
  | { type: 'log'; line: string };

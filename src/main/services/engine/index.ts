/** The engine's public API (see docs/engine.md). */
export { TrainingWorker, type TrainingStart, type TrainingEvents } from './training-worker.ts';
export type { RunStatus, FrameOptions, CheckpointMessage, FrameMessage } from './protocol.ts';
export {
  createTrainer,
  preflight,
  parseConfigOrThrow,
  type Trainer,
  type TrainerOptions,
} from './trainer.ts';
export {
  InferenceSession,
  ClassifySession,
  GrowSession,
  type Readout,
  type SessionOptions,
} from './inference.ts';
export { initBackend, currentBackend, type BackendInfo } from './backends.ts';
export { decodeCheckpoint, encodeCheckpoint, CHECKPOINT_FORMAT } from './checkpoint.ts';
export { DivergedError, ConfigError } from './errors.ts';
export { loadEngineDataset, type EngineDataset, type EngineSplit } from './dataset.ts';

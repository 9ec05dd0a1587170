export { RunStore, DB_FILE } from './run-store.ts';
export type { OpenOptions, CreateRunInput, SaveCheckpointInput, SaveRecordingInput } from './run-store.ts';
export type { MetricWriter, MetricWriterOptions } from './metric-writer.ts';
export { StoreError, type StoreErrorCode } from './errors.ts';
export { SCHEMA_VERSION, MIGRATIONS, applyMigrations } from './schema.ts';
export { NCARUN_FORMAT, NCARUN_VERSION } from './ncarun.ts';
export { downsampleMinMax } from './downsample.ts';

export {
  arraySource,
  frameBytes,
  lockstep,
  recordingSource,
  type FrameSource,
  type FrameTask,
  type RecordingLike,
  type RecordingSourceOptions,
  type SourceFrame,
} from './frame-source.ts';
export {
  FrameComposer,
  drawableText,
  type ComposeOptions,
  type Overlays,
  type PanelSpec,
} from './compose.ts';
export { findFfmpeg, FfmpegError, FfmpegProcess, type FfmpegInfo, type FfmpegOrigin } from './ffmpeg.ts';
export {
  exportVideo,
  ExportCancelledError,
  ExportInputError,
  VIDEO_FORMATS,
  type VideoFormat,
  type VideoOptions,
  type VideoProgress,
  type VideoResult,
} from './video.ts';
export {
  ExportJobs,
  type ExportJob,
  type ExportJobState,
  type ExportProgressEvent,
  type VideoJobOptions,
} from './jobs.ts';
export {
  exportMetrics,
  csvField,
  METRICS_FORMAT,
  type MetricsExportResult,
  type MetricsStore,
} from './metrics.ts';
export { legendNames, storedRecordingSource, type RecordingStore } from './run-sources.ts';
export { syntheticSource, type SyntheticOptions } from './synthetic.ts';
export { drawText, textWidth, GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH } from './font.ts';

/**
 * Frame sources built from what the run store holds (recordings), and the legend names of a run's
 * dataset. Sources that need the engine (playground sessions, compare lockstep runs) are built by
 * the engine side and passed in as ExportDeps.
 */
import type { RunRecord } from '../../../shared/runs.ts';
import { builtinDataset } from '../datasets/catalogue.ts';
import { recordingSource, type FrameSource, type RecordingLike } from './frame-source.ts';

/** Legend names of a dataset's classes: the romanised reading where there is one (Hiragana). */
export function legendNames(datasetId: string): string[] | undefined {
  const ds = builtinDataset(datasetId);
  return ds?.classes.map((c) => c.reading ?? c.name);
}

/** Class count of a classifier run: its dataset's (for reading float32 recordings). */
function classCountOf(run: RunRecord): number | undefined {
  return run.task === 'grow' ? undefined : legendNames(run.dataset)?.length;
}

export interface RecordingStore {
  getRun(id: string): RunRecord;
  loadRecording(runId: string, recordingId: string): RecordingLike & { name: string };
  listRecordings(runId: string): { id: string }[];
}

/** A stored recording of a run as a frame source; `recordingId` 'latest' takes the newest one. */
export function storedRecordingSource(
  store: RecordingStore,
  runId: string,
  recordingId: string,
): FrameSource {
  const run = store.getRun(runId);
  let id = recordingId;
  if (id === 'latest') {
    const all = store.listRecordings(runId);
    if (all.length === 0) throw new Error(`run ${runId} (${run.name}) has no recordings to export`);
    id = all[all.length - 1].id;
  }
  const rec = store.loadRecording(runId, id);
  return recordingSource(rec, {
    task: run.task,
    name: run.name,
    classNames: run.task === 'grow' ? undefined : legendNames(run.dataset),
    classCount: classCountOf(run),
  });
}

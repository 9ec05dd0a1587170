/**
 * `npm run nca -- export --run ID --format mp4|webm|gif --out FILE [--steps N] [--scale S]`: a run's
 * animation as a video; `--format csv|json` writes the metrics of one or several runs instead.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  ExportCancelledError,
  ExportInputError,
  FfmpegError,
  exportMetrics,
  exportVideo,
  storedRecordingSource,
  type FrameSource,
  type VideoFormat,
} from '../../services/export/index.ts';
import { DatasetService } from '../../services/datasets/index.ts';
import { PlaygroundService } from '../../services/playground/service.ts';
import { RunStore, StoreError } from '../../services/store/index.ts';
import { CliUsageError, type CliCommand } from '../types.ts';

const USAGE = [
  'Usage: npm run nca -- export --run ID --format mp4|webm|gif --out FILE [options]',
  '       npm run nca -- export --run ID[,ID...] --format csv|json --out FILE',
  '',
  "Video (a run's animation, one frame per NCA step, step 0 included):",
  '  --steps N          NCA steps to show (default 200; a recording may end sooner)',
  '  --scale S          output pixels per cell, nearest neighbour (default 8)',
  '  --fps F            frames per second (default 30)',
  "  --test-index I     which test image the run's best checkpoint classifies (default 0)",
  '  --recording ID     export a stored recording instead (runs without checkpoints: the latest)',
  '  --no-step, --no-legend, --no-name   leave an overlay out',
  '',
  'Metrics: --format csv (one row per run and iteration) or json (columns, config, evaluations).',
  'ffmpeg: FFMPEG_PATH, else the one in @ffmpeg-installer/ffmpeg, else the system ffmpeg.',
].join('\n');

/** Builds a run's animation from its checkpoint with the engine; null: use the stored recordings. */
export type CliRunSource = (
  store: RunStore,
  dataDir: string,
  runId: string,
  opts: { testIndex: number },
) => Promise<FrameSource | null>;

/**
 * The run's best checkpoint on a test image, through the playground's inference session. A run
 * without checkpoints answers null (its recordings are used instead).
 */
export const engineRunSource: CliRunSource = async (store, dataDir, runId, { testIndex }) => {
  if (store.listCheckpoints(runId).length === 0) return null;
  const datasets = new DatasetService({ dataDir });
  const playground = new PlaygroundService({ store, loadDataset: (id) => datasets.load(id) });
  return playground.runSource(runId, testIndex);
};

function positiveInt(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new CliUsageError(`--${name} must be a whole number 0..${max}, not "${text}"`);
  return v;
}

export function makeExportCommand(runSource?: CliRunSource): CliCommand {
  return {
    name: 'export',
    summary: "export a run as MP4 / WebM / GIF, or runs' metrics as CSV / JSON",
    usage: USAGE,
    async run(args, ctx) {
      let values;
      try {
        ({ values } = parseArgs({
          args,
          options: {
            run: { type: 'string' },
            format: { type: 'string' },
            out: { type: 'string' },
            steps: { type: 'string' },
            scale: { type: 'string' },
            fps: { type: 'string' },
            recording: { type: 'string' },
            'test-index': { type: 'string' },
            'no-step': { type: 'boolean', default: false },
            'no-legend': { type: 'boolean', default: false },
            'no-name': { type: 'boolean', default: false },
          },
          strict: true,
        }));
      } catch (err) {
        throw new CliUsageError(`${(err as Error).message}\n\n${USAGE}`);
      }
      if (!values.run) throw new CliUsageError(`--run is required\n\n${USAGE}`);
      if (!values.out) throw new CliUsageError(`--out is required\n\n${USAGE}`);
      const format = values.format ?? path.extname(values.out).slice(1).toLowerCase();
      const ids = values.run
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const out = path.resolve(values.out);

      let store: RunStore;
      try {
        store = RunStore.open(ctx.dataDir, { readonly: true });
      } catch (err) {
        if (err instanceof StoreError) throw new CliUsageError(err.message);
        throw err;
      }
      try {
        if (format === 'csv' || format === 'json') {
          const r = await exportMetrics(store, ids, format, out);
          if (ctx.json) ctx.stdout(JSON.stringify(r));
          else ctx.stdout(`wrote ${r.rows} metric rows of ${r.runs} run(s) to ${r.file} (${r.bytes} bytes)`);
          return 0;
        }
        if (format !== 'mp4' && format !== 'webm' && format !== 'gif')
          throw new CliUsageError(`--format must be mp4, webm, gif, csv or json, not "${format}"`);
        if (ids.length !== 1) throw new CliUsageError('a video shows one run: give one id to --run');
        const steps = positiveInt('steps', values.steps, 200, 10_000);
        const scale = positiveInt('scale', values.scale, 8, 32);
        const fps = positiveInt('fps', values.fps, 30, 120);
        if (scale < 1 || fps < 1) throw new CliUsageError('--scale and --fps must be at least 1');
        const testIndex = positiveInt('test-index', values['test-index'], 0, 1_000_000);

        let source: FrameSource | null = null;
        if (!values.recording && runSource) {
          try {
            source = await runSource(store, ctx.dataDir, ids[0], { testIndex });
          } catch (err) {
            throw new CliUsageError(`cannot run ${ids[0]}: ${(err as Error).message}`);
          }
        }
        if (!source) {
          try {
            source = storedRecordingSource(store, ids[0], values.recording ?? 'latest');
          } catch (err) {
            if (err instanceof StoreError || err instanceof Error) throw new CliUsageError(err.message);
            throw err;
          }
        }
        const r = await exportVideo(source, {
          file: out,
          format: format as VideoFormat,
          scale,
          fps,
          maxFrames: steps + 1,
          overlays: { step: !values['no-step'], legend: !values['no-legend'], runName: !values['no-name'] },
          signal: ctx.signal,
          progressEveryMs: 1000,
          onProgress: (p) =>
            ctx.stderr(
              `${p.phase} frame ${p.frame}${p.total ? `/${p.total}` : ''} (step ${p.step}, ${p.fps.toFixed(0)} frames/s)`,
            ),
        });
        if (ctx.json) ctx.stdout(JSON.stringify(r));
        else
          ctx.stdout(
            `wrote ${r.frames} frames (${r.width}x${r.height}, ${r.format}) to ${r.file} (${r.bytes} bytes) in ${(r.ms / 1000).toFixed(1)} s`,
          );
        return 0;
      } catch (err) {
        if (err instanceof ExportCancelledError) {
          ctx.stderr(err.message);
          return 130;
        }
        if (err instanceof ExportInputError || err instanceof FfmpegError || err instanceof StoreError)
          throw new CliUsageError(err.message);
        throw err;
      } finally {
        store.close();
      }
    },
  };
}

export const exportCommand = makeExportCommand(engineRunSource);

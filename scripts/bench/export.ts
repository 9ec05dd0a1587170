/**
 * Export benchmark rows: a 1,000-step x 16-sample animation (28x28 cells, scale 4, all overlays)
 * encoded to MP4, WebM and GIF through ffmpeg. Reports encoding frames per second and the peak RSS
 * of this process sampled during the export, with its growth between 10% and 100% of the frames
 * (flat memory: frames are streamed, never held). ffmpeg's own memory is a separate process.
 * Standalone: `node --import tsx scripts/bench/export.ts [--quick]`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  exportVideo,
  findFfmpeg,
  syntheticSource,
  type VideoFormat,
} from '../../src/main/services/export/index.ts';
import type { BenchOptions, BenchRow } from './types.ts';

const mb = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-bench-export-'));
  const ffmpeg = await findFfmpeg();
  const steps = opts.quick ? 200 : 1000;
  const formats: VideoFormat[] = opts.quick ? ['mp4'] : ['mp4', 'webm', 'gif'];
  const rows: BenchRow[] = [];
  try {
    for (const format of formats) {
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      let atTenth = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
      const r = await exportVideo(syntheticSource({ samples: 16, width: 28, height: 28, steps: steps + 1 }), {
        file: path.join(dir, `bench.${format}`),
        format,
        scale: 4,
        fps: 30,
        progressEveryMs: 0,
        onProgress: (p) => {
          peak = Math.max(peak, process.memoryUsage().rss);
          if (p.phase === 'encoding' && p.frame === Math.round((steps + 1) / 10)) atTenth = peak;
        },
      });
      clearInterval(sampler);
      const seconds = r.ms / 1000;
      rows.push({
        name: `export: ${steps} steps x 16 samples -> ${format}`,
        peakRssMb: mb(peak),
        extra: {
          frames: r.frames,
          size: `${r.width}x${r.height}`,
          encodeFramesPerSec: +(r.frames / seconds).toFixed(1),
          seconds: +seconds.toFixed(2),
          fileMb: mb(r.bytes),
          rssBaselineMb: mb(baseline),
          rssGrowthAfterFirstTenthMb: mb(Math.max(0, peak - atTenth)),
        },
        note: `${path.basename(ffmpeg.path)} from ${ffmpeg.origin}${format === 'gif' ? '; two passes (palette + encode)' : ''}`,
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run({ quick: process.argv.includes('--quick') });
  console.log(JSON.stringify(rows, null, 2));
}

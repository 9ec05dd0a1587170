import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FLAG_ALIVE, FRAME_BYTES_PER_CELL, NO_CLASS } from '../../../src/shared/frames.ts';
import type { FrameSource, SourceFrame } from '../../../src/main/services/export/index.ts';

export function tempDir(prefix = 'nca-export-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Probe {
  codec: string;
  width: number;
  height: number;
  frames: number;
  pixFmt: string;
}

/** Decode the whole file with ffprobe and count the frames it really holds. */
export function probe(file: string): Probe {
  const out = execFileSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,width,height,nb_read_frames,pix_fmt',
      '-of',
      'json',
      file,
    ],
    { encoding: 'utf8' },
  );
  const s = (JSON.parse(out) as { streams: Record<string, string | number>[] }).streams[0];
  return {
    codec: String(s.codec_name),
    width: Number(s.width),
    height: Number(s.height),
    frames: Number(s.nb_read_frames),
    pixFmt: String(s.pix_fmt),
  };
}

/** Frame n of a video decoded to RGB24 bytes. */
export function decodeFrame(file: string, n: number, width: number, height: number): Uint8Array {
  const out = execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      file,
      '-vf',
      `select=eq(n\\,${n})`,
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  if (out.length !== width * height * 3)
    throw new Error(`decoded ${out.length} bytes, expected ${width * height * 3}`);
  return new Uint8Array(out);
}

/**
 * A classifier source whose every alive cell of sample s votes class (s + step) % classes with full
 * confidence: colours change with the step, so frame order is visible in the decoded video.
 */
export function classSource(o: {
  samples: number;
  width: number;
  height: number;
  steps: number;
  classes?: number;
  name?: string;
  onPull?: (step: number) => void;
  onClose?: () => void;
}): FrameSource {
  const classes = o.classes ?? 10;
  async function* frames(): AsyncGenerator<SourceFrame> {
    try {
      for (let step = 0; step < o.steps; step++) {
        o.onPull?.(step);
        const f = new Uint8Array(o.samples * o.width * o.height * FRAME_BYTES_PER_CELL);
        for (let s = 0; s < o.samples; s++)
          for (let i = 0; i < o.width * o.height; i++) {
            const d = (s * o.width * o.height + i) * FRAME_BYTES_PER_CELL;
            f[d] = 255;
            f[d + 1] = (s + step) % classes;
            f[d + 2] = 255;
            f[d + 4] = FLAG_ALIVE;
          }
        yield { step, frame: f };
      }
    } finally {
      o.onClose?.();
    }
  }
  return {
    width: o.width,
    height: o.height,
    samples: o.samples,
    task: 'classify',
    name: o.name,
    classNames: Array.from({ length: classes }, (_, k) => `class ${k}`),
    frames: frames(),
  };
}

export { NO_CLASS };

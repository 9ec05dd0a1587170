/**
 * Animations -> MP4 (H.264), WebM (VP9) or animated GIF, through one ffmpeg child process.
 *
 * Frames are pulled from the source(s) one at a time, composed into one reused RGBA buffer and
 * written to ffmpeg's stdin, waiting whenever the pipe is full: memory stays flat however long the
 * animation. GIF needs a palette computed over all frames first: pass 1 feeds ffmpeg's palettegen
 * while spooling the compact source frames (~60 KB a step for 16 samples, not the 3 MB RGBA frame)
 * to a temporary file; pass 2 re-composes them from that file into paletteuse.
 *
 * The file appears only when complete: ffmpeg writes `<file>.part`, renamed at the end; a failure
 * or a cancel removes every partial file.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FrameComposer, type Overlays } from './compose.ts';
import { FfmpegProcess, findFfmpeg, type FfmpegInfo } from './ffmpeg.ts';
import { frameBytes, lockstep, type FrameSource, type SourceFrame } from './frame-source.ts';

export const VIDEO_FORMATS = ['mp4', 'webm', 'gif'] as const;
export type VideoFormat = (typeof VIDEO_FORMATS)[number];

export interface VideoProgress {
  /** 'palette': GIF pass 1 (colour statistics); 'encoding': writing the file */
  phase: 'palette' | 'encoding';
  /** frames done in this phase */
  frame: number;
  /** frames expected (the frame limit), or null when the source decides */
  total: number | null;
  /** the latest step shown */
  step: number;
  /** frames per second so far in this phase */
  fps: number;
}

export interface VideoOptions {
  file: string;
  format: VideoFormat;
  /** output pixels per cell, nearest neighbour (1..32) */
  scale: number;
  /** frames per second of the video (1..120) */
  fps: number;
  /** stop after this many frames; default: when a source ends */
  maxFrames?: number;
  overlays?: Partial<Overlays>;
  signal?: AbortSignal;
  onProgress?: (p: VideoProgress) => void;
  /** minimum milliseconds between progress calls (default 200; the last frame is always reported) */
  progressEveryMs?: number;
  /** a specific ffmpeg (default: findFfmpeg()) */
  ffmpeg?: FfmpegInfo;
  /** where GIF spool and palette files go (default os.tmpdir()) */
  tmpDir?: string;
}

export interface VideoResult {
  file: string;
  format: VideoFormat;
  frames: number;
  width: number;
  height: number;
  bytes: number;
  fps: number;
  ms: number;
  /** which ffmpeg encoded it */
  ffmpeg: string;
}

export class ExportCancelledError extends Error {
  override name = 'ExportCancelledError';
  constructor(file: string) {
    super(`export of ${file} was cancelled`);
  }
}

export class ExportInputError extends Error {
  override name = 'ExportInputError';
}

const DEFAULT_OVERLAYS: Overlays = { step: true, legend: true, runName: true };

function encoderArgs(format: VideoFormat, out: string, palette?: string): string[] {
  switch (format) {
    case 'mp4':
      return [
        '-an',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-tune',
        'animation',
        '-crf',
        '18',
        '-pix_fmt',
        'yuv420p',
        '-movflags',
        '+faststart',
        '-f',
        'mp4',
        out,
      ];
    case 'webm':
      return [
        '-an',
        '-c:v',
        'libvpx-vp9',
        '-pix_fmt',
        'yuv420p',
        '-crf',
        '32',
        '-b:v',
        '0',
        '-deadline',
        'realtime',
        '-cpu-used',
        '8',
        '-row-mt',
        '1',
        '-f',
        'webm',
        out,
      ];
    case 'gif':
      return [
        '-i',
        palette!,
        // no dithering: cells are flat colours, and dither noise would flicker between frames
        '-lavfi',
        '[0:v][1:v]paletteuse=dither=none',
        '-loop',
        '0',
        '-f',
        'gif',
        out,
      ];
  }
}

function rawInputArgs(width: number, height: number, fps: number): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgba',
    '-s',
    `${width}x${height}`,
    '-framerate',
    String(fps),
    '-i',
    'pipe:0',
  ];
}

function checkOptions(o: VideoOptions): string {
  if (!(VIDEO_FORMATS as readonly string[]).includes(o.format))
    throw new ExportInputError(`format "${o.format}" is not one of ${VIDEO_FORMATS.join(', ')}`);
  if (!Number.isInteger(o.fps) || o.fps < 1 || o.fps > 120)
    throw new ExportInputError(`fps must be a whole number 1..120, not ${o.fps}`);
  if (o.maxFrames !== undefined && (!Number.isInteger(o.maxFrames) || o.maxFrames < 1))
    throw new ExportInputError(`the frame limit must be a whole number >= 1, not ${o.maxFrames}`);
  if (typeof o.file !== 'string' || o.file.trim() === '')
    throw new ExportInputError('an export needs an output file');
  const file = path.resolve(o.file);
  const dir = path.dirname(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new ExportInputError(`cannot write ${file}: the folder ${dir} does not exist`);
  }
  if (!stat.isDirectory()) throw new ExportInputError(`cannot write ${file}: ${dir} is not a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new ExportInputError(`cannot write ${file}: the folder ${dir} is not writable`);
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory())
    throw new ExportInputError(`cannot write ${file}: it is a folder`);
  return file;
}

const removeQuietly = (file: string) => fs.promises.rm(file, { force: true }).catch(() => undefined);

/** Encode the frames of one source, or several side by side in lockstep, into a video file. */
export async function exportVideo(
  input: FrameSource | FrameSource[],
  opts: VideoOptions,
): Promise<VideoResult> {
  const started = performance.now();
  const file = checkOptions(opts);
  const sources = Array.isArray(input) ? input : [input];
  const overlays = { ...DEFAULT_OVERLAYS, ...opts.overlays };
  let composer: FrameComposer;
  try {
    composer = new FrameComposer(sources, { scale: opts.scale, overlays });
  } catch (err) {
    throw new ExportInputError((err as Error).message);
  }
  const ffmpeg = opts.ffmpeg ?? (await findFfmpeg());
  const signal = opts.signal;
  if (signal?.aborted) throw new ExportCancelledError(file);

  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const part = path.join(path.dirname(file), `.${path.basename(file)}.${tag}.part`);
  const tmpDir = opts.tmpDir ?? os.tmpdir();
  const spoolFile = path.join(tmpDir, `nca-export-${tag}.frames`);
  const paletteFile = path.join(tmpDir, `nca-export-${tag}-palette.png`);
  const limit = opts.maxFrames ?? Infinity;
  const total = opts.maxFrames ?? null;
  const everyMs = opts.progressEveryMs ?? 200;

  let current: FfmpegProcess | null = null;
  const onAbort = () => current?.kill();
  signal?.addEventListener('abort', onAbort);

  const reporter = (phase: VideoProgress['phase']) => {
    const t0 = performance.now();
    let last = -Infinity;
    return (frame: number, step: number, final = false) => {
      const now = performance.now();
      if (!opts.onProgress || (!final && now - last < everyMs)) return;
      last = now;
      const seconds = (now - t0) / 1000;
      opts.onProgress({ phase, frame, total, step, fps: seconds > 0 ? frame / seconds : 0 });
    };
  };

  /** one video frame per step, up to the limit; the lockstep iterator stops the sources on return */
  async function* steps(): AsyncGenerator<SourceFrame[]> {
    if (limit <= 0) return;
    let n = 0;
    for await (const frames of lockstep(sources)) {
      yield frames;
      if (++n >= limit) return;
    }
  }

  const run = async (args: string[], feed: (proc: FfmpegProcess) => Promise<number>): Promise<number> => {
    const proc = new FfmpegProcess(ffmpeg.path, args);
    current = proc;
    try {
      const n = await feed(proc);
      if (signal?.aborted) throw new ExportCancelledError(file);
      await proc.finish();
      return n;
    } catch (err) {
      proc.kill();
      await proc.ended();
      if (signal?.aborted) throw new ExportCancelledError(file);
      throw err;
    } finally {
      current = null;
    }
  };

  const rawIn = rawInputArgs(composer.width, composer.height, opts.fps);
  let frames = 0;
  try {
    if (opts.format !== 'gif') {
      const progress = reporter('encoding');
      frames = await run([...rawIn, ...encoderArgs(opts.format, part)], async (proc) => {
        let n = 0;
        let step = 0;
        for await (const stepFrames of steps()) {
          if (signal?.aborted) throw new ExportCancelledError(file);
          await proc.write(composer.compose(stepFrames));
          step = stepFrames[0].step;
          progress(++n, step);
        }
        if (n === 0) throw new ExportInputError('the frame source produced no frames');
        progress(n, step, true);
        return n;
      });
    } else {
      const lengths = sources.map((s) => frameBytes(s));
      const recordBytes = lengths.reduce((a, l) => a + 4 + l, 0);
      const spool = await fs.promises.open(spoolFile, 'w+');
      try {
        // pass 1: palette statistics, spooling the compact frames for pass 2
        const palette = reporter('palette');
        const record = Buffer.alloc(recordBytes);
        frames = await run(
          [
            ...rawIn,
            '-vf',
            'palettegen=max_colors=256:stats_mode=full:reserve_transparent=0',
            '-f',
            'image2',
            paletteFile,
          ],
          async (proc) => {
            let n = 0;
            let step = 0;
            for await (const stepFrames of steps()) {
              if (signal?.aborted) throw new ExportCancelledError(file);
              const rgba = composer.compose(stepFrames); // validates the frame sizes too
              let o = 0;
              for (const f of stepFrames) {
                record.writeInt32LE(f.step, o);
                record.set(f.frame, o + 4);
                o += 4 + f.frame.length;
              }
              await spool.write(record, 0, recordBytes, n * recordBytes);
              await proc.write(rgba);
              step = stepFrames[0].step;
              palette(++n, step);
            }
            if (n === 0) throw new ExportInputError('the frame source produced no frames');
            palette(n, step, true);
            return n;
          },
        );
        // pass 2: the real encode, from the spool
        const progress = reporter('encoding');
        await run([...rawIn, ...encoderArgs('gif', part, paletteFile)], async (proc) => {
          let step = 0;
          for (let n = 0; n < frames; n++) {
            if (signal?.aborted) throw new ExportCancelledError(file);
            await spool.read(record, 0, recordBytes, n * recordBytes);
            const stepFrames: SourceFrame[] = [];
            let o = 0;
            for (const len of lengths) {
              stepFrames.push({
                step: record.readInt32LE(o),
                frame: new Uint8Array(record.buffer, record.byteOffset + o + 4, len),
              });
              o += 4 + len;
            }
            await proc.write(composer.compose(stepFrames));
            step = stepFrames[0].step;
            progress(n + 1, step);
          }
          progress(frames, step, true);
          return frames;
        });
      } finally {
        await spool.close();
      }
    }
    await fs.promises.rename(part, file);
  } catch (err) {
    await removeQuietly(part);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await removeQuietly(spoolFile);
    await removeQuietly(paletteFile);
  }
  const ms = performance.now() - started;
  return {
    file,
    format: opts.format,
    frames,
    width: composer.width,
    height: composer.height,
    bytes: fs.statSync(file).size,
    fps: opts.fps,
    ms,
    ffmpeg: `${ffmpeg.path} (${ffmpeg.origin})`,
  };
}

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classRgb } from '../../../src/shared/colormap.ts';
import {
  ExportCancelledError,
  ExportInputError,
  FfmpegError,
  exportVideo,
  findFfmpeg,
  type VideoFormat,
} from '../../../src/main/services/export/index.ts';
import { classSource, decodeFrame, probe, tempDir } from './helpers.ts';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** pixels of the decoded RGB frame within `tol` of the colour */
function countNear(rgb: Uint8Array, [r, g, b]: [number, number, number], tol: number): number {
  let n = 0;
  for (let i = 0; i < rgb.length; i += 3)
    if (Math.abs(rgb[i] - r) <= tol && Math.abs(rgb[i + 1] - g) <= tol && Math.abs(rgb[i + 2] - b) <= tol)
      n++;
  return n;
}

const CODECS: Record<VideoFormat, string> = { mp4: 'h264', webm: 'vp9', gif: 'gif' };

describe('exportVideo', () => {
  it('finds an ffmpeg', async () => {
    const ff = await findFfmpeg();
    expect(ff.version).toMatch(/ffmpeg/i);
  });

  for (const format of ['mp4', 'webm', 'gif'] as const) {
    it(`writes ${format} that decodes to the right codec, size, frame count and colours`, async () => {
      const file = path.join(dir, `one.${format}`);
      const progress: number[] = [];
      const r = await exportVideo(classSource({ samples: 1, width: 6, height: 5, steps: 12 }), {
        file,
        format,
        scale: 6,
        fps: 10,
        overlays: { step: true, legend: false, runName: true },
        progressEveryMs: 0,
        onProgress: (p) => {
          if (p.phase === 'encoding') progress.push(p.frame);
        },
      });
      const p = probe(file);
      expect(p.codec).toBe(CODECS[format]);
      expect(p.frames).toBe(12);
      expect(r.frames).toBe(12);
      expect([p.width, p.height]).toEqual([r.width, r.height]);
      expect(p.width % 2).toBe(0);
      expect(p.height % 2).toBe(0);
      if (format !== 'gif') expect(p.pixFmt).toBe('yuv420p');
      expect(progress.at(-1)).toBe(12);
      // frame n shows class n % 10 (frame order kept); GIF keeps colours exactly, yuv420p nearly
      const tol = format === 'gif' ? 2 : 14;
      for (const n of [0, 7]) {
        const rgb = decodeFrame(file, n, p.width, p.height);
        const cells = 6 * 5 * 6 * 6;
        expect(countNear(rgb, classRgb(n % 10), tol)).toBeGreaterThan(cells * 0.7);
        expect(countNear(rgb, classRgb((n + 1) % 10), tol)).toBeLessThan(cells * 0.1);
      }
      // nothing left behind but the file
      expect(fs.readdirSync(dir).filter((f) => f.includes('.part'))).toEqual([]);
    });
  }

  it('runs several sources side by side in lockstep, ending with the shortest', async () => {
    let closedLong = false;
    const file = path.join(dir, 'side.mp4');
    const r = await exportVideo(
      [
        classSource({ samples: 4, width: 4, height: 4, steps: 9, name: 'short' }),
        classSource({
          samples: 4,
          width: 4,
          height: 4,
          steps: 50,
          name: 'long',
          onClose: () => (closedLong = true),
        }),
      ],
      { file, format: 'mp4', scale: 4, fps: 5, overlays: { step: false, legend: false } },
    );
    expect(r.frames).toBe(9);
    expect(probe(file).frames).toBe(9);
    expect(closedLong).toBe(true); // the longer source was told to stop
    const single = await exportVideo(classSource({ samples: 4, width: 4, height: 4, steps: 2 }), {
      file: path.join(dir, 'single.mp4'),
      format: 'mp4',
      scale: 4,
      fps: 5,
      overlays: { step: false, legend: false },
    });
    expect(r.width).toBeGreaterThan(single.width * 1.5);
  });

  it('stops after maxFrames and closes an endless source', async () => {
    let pulled = 0;
    let closed = false;
    const r = await exportVideo(
      classSource({
        samples: 1,
        width: 4,
        height: 4,
        steps: Infinity,
        onPull: () => pulled++,
        onClose: () => (closed = true),
      }),
      { file: path.join(dir, 'limit.webm'), format: 'webm', scale: 2, fps: 30, maxFrames: 21 },
    );
    expect(r.frames).toBe(21);
    expect(probe(r.file).frames).toBe(21);
    expect(pulled).toBe(21); // never computes frames it will not use
    expect(closed).toBe(true);
  });

  it('pulls frames only as fast as ffmpeg takes them (back-pressure)', async () => {
    let pulled = 0;
    let maxAhead = 0;
    await exportVideo(
      classSource({ samples: 16, width: 28, height: 28, steps: 40, onPull: () => pulled++ }),
      {
        file: path.join(dir, 'pressure.mp4'),
        format: 'mp4',
        scale: 8,
        fps: 30,
        progressEveryMs: 0,
        onProgress: (p) => (maxAhead = Math.max(maxAhead, pulled - p.frame)),
      },
    );
    // each ~3.6 MB frame is handed over before the next one is made
    expect(maxAhead).toBeLessThanOrEqual(1);
  });

  for (const format of ['mp4', 'gif'] as const) {
    it(`cancels a ${format} export: rejects, kills ffmpeg, closes the source, leaves no file`, async () => {
      const controller = new AbortController();
      let closed = false;
      const file = path.join(dir, `cancel.${format}`);
      const tmpDir = tempDir('nca-export-tmp-');
      const job = exportVideo(
        classSource({ samples: 4, width: 16, height: 16, steps: 100_000, onClose: () => (closed = true) }),
        {
          file,
          format,
          scale: 4,
          fps: 30,
          signal: controller.signal,
          tmpDir,
          progressEveryMs: 0,
          onProgress: (p) => {
            if (p.frame >= 5) controller.abort();
          },
        },
      );
      await expect(job).rejects.toBeInstanceOf(ExportCancelledError);
      expect(closed).toBe(true);
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.readdirSync(dir).filter((f) => f.startsWith(`.cancel.${format}`))).toEqual([]);
      expect(fs.readdirSync(tmpDir)).toEqual([]); // GIF spool and palette removed
      fs.rmSync(tmpDir, { recursive: true });
    });
  }

  it('reports a failing ffmpeg with its own words and leaves no partial file', async () => {
    const fake = path.join(dir, 'fake-ffmpeg.sh');
    fs.writeFileSync(fake, '#!/bin/sh\necho "Unknown encoder libx264 (test)" >&2\nexit 3\n', { mode: 0o755 });
    const file = path.join(dir, 'broken.mp4');
    await expect(
      exportVideo(classSource({ samples: 1, width: 4, height: 4, steps: 5 }), {
        file,
        format: 'mp4',
        scale: 2,
        fps: 10,
        ffmpeg: { path: fake, origin: 'FFMPEG_PATH', version: 'fake' },
      }),
    ).rejects.toThrow(/ffmpeg exited with code 3: Unknown encoder libx264 \(test\)/);
    expect(fs.readdirSync(dir).filter((f) => f.includes('broken'))).toEqual([]);
  });

  it('says what is wrong with FFMPEG_PATH', async () => {
    await expect(findFfmpeg({ FFMPEG_PATH: '/nonexistent/ffmpeg' })).rejects.toThrow(FfmpegError);
    await expect(findFfmpeg({ FFMPEG_PATH: '/nonexistent/ffmpeg' })).rejects.toThrow(
      /FFMPEG_PATH is "\/nonexistent\/ffmpeg"/,
    );
  });

  it('rejects bad requests before starting ffmpeg', async () => {
    const src = () => classSource({ samples: 1, width: 4, height: 4, steps: 3 });
    const base = { scale: 2, fps: 10 };
    await expect(
      exportVideo(src(), { ...base, file: '/nonexistent-dir/x.mp4', format: 'mp4' }),
    ).rejects.toThrow(/the folder \/nonexistent-dir does not exist/);
    await expect(
      exportVideo(src(), { ...base, file: path.join(dir, 'x.avi'), format: 'avi' as 'mp4' }),
    ).rejects.toThrow(/format "avi" is not one of mp4, webm, gif/);
    await expect(
      exportVideo(src(), { ...base, fps: 0, file: path.join(dir, 'x.mp4'), format: 'mp4' }),
    ).rejects.toThrow(ExportInputError);
    await expect(exportVideo(src(), { ...base, file: dir, format: 'mp4' })).rejects.toThrow(/it is a folder/);
    await expect(
      exportVideo(classSource({ samples: 1, width: 4, height: 4, steps: 0 }), {
        ...base,
        file: path.join(dir, 'empty.gif'),
        format: 'gif',
      }),
    ).rejects.toThrow(/produced no frames/);
    expect(fs.existsSync(path.join(dir, 'empty.gif'))).toBe(false);
  });
});

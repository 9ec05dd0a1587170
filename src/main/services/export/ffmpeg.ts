/**
 * The ffmpeg child process that encodes exported videos. Which binary: FFMPEG_PATH when set, else
 * the static build inside the @ffmpeg-installer/ffmpeg npm package (so desktop users need nothing),
 * else a system ffmpeg (/usr/bin/ffmpeg, /usr/local/bin/ffmpeg, PATH).
 *
 * Frames go to ffmpeg's stdin as raw RGBA; `write` waits for 'drain' whenever the pipe is full, so
 * the producer (and the NCA computing the frames) runs at the encoder's pace and memory stays flat.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';

export type FfmpegOrigin = 'FFMPEG_PATH' | '@ffmpeg-installer/ffmpeg' | 'system';

export interface FfmpegInfo {
  path: string;
  origin: FfmpegOrigin;
  /** first line of `ffmpeg -version` */
  version: string;
}

export class FfmpegError extends Error {
  override name = 'FfmpegError';
}

function versionOf(bin: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(bin, ['-hide_banner', '-version'], { timeout: 15_000 }, (err, stdout) => {
      if (err) resolve(null);
      else resolve(String(stdout).split('\n')[0]?.trim() || 'ffmpeg');
    });
  });
}

/** The ffmpeg shipped in node_modules, when its platform package is installed. */
function installerPath(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const mod = require('@ffmpeg-installer/ffmpeg') as { path?: string };
    if (!mod.path) return null;
    // a packaged Electron app keeps binaries outside the asar archive
    const p = mod.path.replace('app.asar', 'app.asar.unpacked');
    return fs.existsSync(p) ? p : fs.existsSync(mod.path) ? mod.path : null;
  } catch {
    return null;
  }
}

const cache = new Map<string, Promise<FfmpegInfo>>();

/**
 * Find a working ffmpeg (runs `-version` once per process). Throws FfmpegError naming what was
 * tried when there is none, or when FFMPEG_PATH points to something that is not a working ffmpeg.
 */
export function findFfmpeg(env: NodeJS.ProcessEnv = process.env): Promise<FfmpegInfo> {
  const key = env.FFMPEG_PATH ?? '';
  let found = cache.get(key);
  if (!found) {
    found = locate(env);
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  return found;
}

async function locate(env: NodeJS.ProcessEnv): Promise<FfmpegInfo> {
  if (env.FFMPEG_PATH) {
    const version = await versionOf(env.FFMPEG_PATH);
    if (!version)
      throw new FfmpegError(
        `FFMPEG_PATH is "${env.FFMPEG_PATH}", but that does not run as ffmpeg (\`${env.FFMPEG_PATH} -version\` failed)`,
      );
    return { path: env.FFMPEG_PATH, origin: 'FFMPEG_PATH', version };
  }
  const tried: string[] = [];
  const bundled = installerPath();
  if (bundled) {
    tried.push(bundled);
    const version = await versionOf(bundled);
    if (version) return { path: bundled, origin: '@ffmpeg-installer/ffmpeg', version };
  }
  for (const candidate of [
    '/usr/bin/ffmpeg',
    '/usr/local/bin/ffmpeg',
    '/opt/homebrew/bin/ffmpeg',
    'ffmpeg',
  ]) {
    tried.push(candidate);
    const version = await versionOf(candidate);
    if (version) return { path: candidate, origin: 'system', version };
  }
  throw new FfmpegError(
    `no working ffmpeg found (tried ${tried.join(', ')}); install ffmpeg or set FFMPEG_PATH to its binary`,
  );
}

/** One running ffmpeg that reads raw frames on stdin. */
export class FfmpegProcess {
  private readonly child: ChildProcess;
  private stderrTail = '';
  private exit: Promise<number | null>;
  private exited = false;
  private killed = false;

  constructor(bin: string, args: string[]) {
    this.child = spawn(bin, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    // a write after ffmpeg died fails with EPIPE; the exit code reports the real problem
    this.child.stdin!.on('error', () => undefined);
    this.exit = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.stderrTail += `\n${err.message}`;
        this.exited = true;
        resolve(null);
      });
      this.child.on('close', (code) => {
        this.exited = true;
        resolve(code);
      });
    });
  }

  /**
   * Write one frame. Resolves once the bytes are in the pipe (so the caller may reuse its buffer)
   * and the pipe has room again: the producer waits for the encoder (back-pressure).
   */
  async write(bytes: Uint8Array): Promise<void> {
    if (this.exited) throw this.failure(await this.exit);
    const stdin = this.child.stdin!;
    const written = new Promise<'written'>((resolve, reject) =>
      stdin.write(bytes, (err) => (err ? reject(err) : resolve('written'))),
    );
    const outcome = await Promise.race([written, this.exit.then(() => 'exit' as const)]).catch(
      () => 'exit' as const,
    );
    if (outcome === 'exit') throw this.failure(await this.exit);
  }

  /** Close stdin and wait for ffmpeg to finish writing the file. */
  async finish(): Promise<void> {
    this.child.stdin!.end();
    const code = await this.exit;
    if (code !== 0) throw this.failure(code);
  }

  kill(): void {
    if (this.exited || this.killed) return;
    this.killed = true;
    this.child.stdin!.destroy();
    this.child.kill('SIGKILL');
  }

  /** Resolves when the process has ended (after kill()). */
  async ended(): Promise<void> {
    await this.exit;
  }

  private failure(code: number | null): FfmpegError {
    const tail = this.stderrTail.trim().split('\n').slice(-6).join('\n');
    return new FfmpegError(
      `ffmpeg ${code === null ? 'could not run' : `exited with code ${code}`}${tail ? `: ${tail}` : ''}`,
    );
  }
}

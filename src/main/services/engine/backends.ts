/**
 * Backend selection, fastest available first: tfjs-node-gpu (CUDA) -> WebGPU (Dawn via the `webgpu`
 * package) -> tfjs-node -> wasm -> cpu. A package is tried only if it resolves, and only one native
 * binding is ever loaded. Software WebGPU adapters (SwiftShader, llvmpipe) are skipped for training
 * unless explicitly allowed: they are right for correctness tests, far too slow to train.
 */
import os from 'node:os';
import { createRequire } from 'node:module';
import { tf } from './tf.ts';
import type { BackendName } from '../../../shared/nca-config.ts';

export interface BackendInfo {
  backend: Exclude<BackendName, 'auto'>;
  /** adapter or CPU description */
  device: string;
  /** wasm: whether SIMD / threads are on */
  notes?: string;
}

export interface BackendOptions {
  allowSoftwareGpu?: boolean;
  /** log of why each candidate was skipped (for the UI and errors) */
  log?: (line: string) => void;
}

// not named `require`: electron-vite's ESM output declares its own
const resolveFrom = createRequire(import.meta.url);

function resolves(pkg: string): boolean {
  try {
    resolveFrom.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

function cpuModel(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model?.trim() ?? 'unknown CPU'} x${cpus.length}`;
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|software|microsoft basic/i;

let current: BackendInfo | null = null;

/** The backend initialised in this thread, if any. */
export function currentBackend(): BackendInfo | null {
  return current;
}

async function tryNative(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<BackendInfo> {
  if (pkg === '@tensorflow/tfjs-node-gpu') process.env.TF_FORCE_GPU_ALLOW_GROWTH = 'true';
  // tfjs-node registers the 'tensorflow' backend against its own tfjs-core copy when versions match.
  await import(pkg);
  if (!(await tf.setBackend('tensorflow')))
    throw new Error(`${pkg} loaded but the 'tensorflow' backend did not start`);
  await tf.ready();
  return {
    backend: pkg === '@tensorflow/tfjs-node-gpu' ? 'tfjs-node-gpu' : 'tfjs-node',
    device:
      pkg === '@tensorflow/tfjs-node-gpu' ? 'CUDA GPU (libtensorflow)' : `${cpuModel()} (libtensorflow)`,
  };
}

let webgpuInstalled = false;

/** Install Dawn's navigator.gpu into this thread's globals (once). */
async function installWebGpu(): Promise<void> {
  if (webgpuInstalled) return;
  const { create, globals } = (await import('webgpu')) as unknown as {
    create: (opts: string[]) => unknown;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', {
    value: { ...(globalThis.navigator ?? {}), gpu: create([]) },
    configurable: true,
    writable: true,
  });
  webgpuInstalled = true;
}

async function tryWebGpu(allowSoftware: boolean): Promise<BackendInfo> {
  await installWebGpu();
  const gpu = (globalThis.navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const adapter = (await gpu?.requestAdapter()) as { info?: Record<string, string> } | null | undefined;
  if (!adapter) throw new Error('no WebGPU adapter found (no GPU driver, or no Vulkan/Metal/D3D12 ICD)');
  const info = adapter.info ?? {};
  const device =
    [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') ||
    'WebGPU adapter';
  if (!allowSoftware && SOFTWARE_ADAPTER.test(device))
    throw new Error(
      `WebGPU adapter "${device}" is a software rasteriser (set compute.allowSoftwareGpu to use it)`,
    );
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend did not start');
  await tf.ready();
  return { backend: 'webgpu', device };
}

/** The parts of tfjs-backend-webgpu's BufferManager that trimming touches (not public API). */
interface GpuBufferPool {
  freeBuffers: Map<string, { destroy(): void; size: number }[]>;
  numFreeBuffers: number;
  numBytesAllocated: number;
  numBytesUsed: number;
}

function gpuBufferPool(): GpuBufferPool | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const pool = (tf.backend() as unknown as { bufferManager?: GpuBufferPool }).bufferManager;
  return pool?.freeBuffers instanceof Map ? pool : null;
}

/** Bytes of released GPU buffers that tfjs holds for reuse (0 off WebGPU). */
export function gpuFreePoolBytes(): number {
  const pool = gpuBufferPool();
  return pool ? pool.numBytesAllocated - pool.numBytesUsed : 0;
}

/**
 * WebGPU: tfjs keeps every released buffer for reuse, keyed by its exact byte size, and never frees
 * one. Alive-only rollouts change shape with every batch, so that pool grows without bound (an H200
 * ran out of its 141 GB after ~400 MNIST iterations). Past `limitBytes` of free buffers, destroy
 * them all; buffers in use are untouched. Returns the bytes freed. A no-op on other backends.
 */
export function trimGpuBufferPool(limitBytes = 256 * 2 ** 20): number {
  const pool = gpuBufferPool();
  if (!pool || pool.numBytesAllocated - pool.numBytesUsed <= limitBytes) return 0;
  let freed = 0;
  for (const [key, buffers] of pool.freeBuffers) {
    for (const b of buffers) {
      freed += b.size;
      b.destroy();
    }
    pool.numFreeBuffers -= buffers.length;
    // an empty map makes tfjs drop released buffers untracked: keep this key's (now empty) list
    if (pool.freeBuffers.size > 1) pool.freeBuffers.delete(key);
    else buffers.length = 0;
  }
  pool.numBytesAllocated -= freed;
  return freed;
}

/**
 * A run's failure message. GPU allocation failures surface from tfjs as e.g. "createBuffer failed to
 * allocate a buffer mapped at creation.", which does not say that the GPU ran out of memory or what
 * to do about it.
 */
export function describeEngineError(e: unknown, backend = currentBackend()?.backend): string {
  const message = e instanceof Error ? e.message : String(e);
  const gpu = backend === 'webgpu' || backend === 'tfjs-node-gpu';
  if (gpu && /failed to allocate|out of (device )?memory|OOM/i.test(message))
    return `the GPU ran out of memory (${backend}): ${message} Lower the batch or the pool size, or train on another backend.`;
  return message;
}

async function tryWasm(): Promise<BackendInfo> {
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return {
    backend: 'wasm',
    device: cpuModel(),
    notes: `simd ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}`,
  };
}

async function tryCpu(): Promise<BackendInfo> {
  await tf.setBackend('cpu');
  await tf.ready();
  return { backend: 'cpu', device: `${cpuModel()} (plain JS)` };
}

/**
 * Initialise a backend in this thread. 'auto' walks the order above and takes the first that works;
 * a named backend that cannot start is an error naming it and why.
 */
export async function initBackend(
  name: BackendName = 'auto',
  opts: BackendOptions = {},
): Promise<BackendInfo> {
  const log = opts.log ?? (() => {});
  const candidates: Exclude<BackendName, 'auto'>[] =
    name === 'auto' ? ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] : [name];
  const reasons: string[] = [];
  for (const c of candidates) {
    try {
      let info: BackendInfo;
      if (c === 'tfjs-node-gpu' || c === 'tfjs-node') {
        const pkg = c === 'tfjs-node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
        if (!resolves(pkg)) throw new Error(`${pkg} is not installed`);
        info = await tryNative(pkg);
      } else if (c === 'webgpu') {
        if (!resolves('webgpu') || !resolves('@tensorflow/tfjs-backend-webgpu'))
          throw new Error('the webgpu packages are not installed');
        info = await tryWebGpu(opts.allowSoftwareGpu ?? false);
      } else if (c === 'wasm') info = await tryWasm();
      else info = await tryCpu();
      current = info;
      return info;
    } catch (e) {
      const why = `${c}: ${(e as Error).message}`;
      reasons.push(why);
      log(`backend ${why}`);
    }
  }
  throw new Error(`no backend could start (${reasons.join('; ')})`);
}

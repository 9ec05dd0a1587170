import { svelte } from '@sveltejs/vite-plugin-svelte';
import path from 'node:path';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: 'src/main/electron/index.ts',
          cli: 'src/main/cli/index.ts',
          // worker threads start from their own files (src/main/util/worker.ts finds them)
          worker: 'src/main/services/engine/worker.ts',
          'replica-worker': 'src/main/services/engine/replica-worker.ts',
        },
        // native and wasm packages load their own files at run time: keep them out of the bundle
        external: [
          'better-sqlite3',
          '@tensorflow/tfjs',
          '@tensorflow/tfjs-backend-wasm',
          '@tensorflow/tfjs-backend-webgpu',
          '@tensorflow/tfjs-node',
          '@tensorflow/tfjs-node-gpu',
          'webgpu',
          'tsx',
          'tsx/esm/api',
        ],
      },
    },
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: 'src/preload/index.ts' },
        // a sandboxed preload must be CommonJS
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    plugins: [svelte({ configFile: path.resolve('svelte.config.js') })],
    build: { rollupOptions: { input: 'src/renderer/index.html' }, chunkSizeWarningLimit: 1500 },
  },
});

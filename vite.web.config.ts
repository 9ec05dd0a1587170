/** The renderer built for browser mode (`npm run serve`): the same Svelte app as the desktop window. */
import path from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'src/renderer',
  base: './',
  plugins: [svelte({ configFile: path.resolve('svelte.config.js') })],
  build: { outDir: '../../out/web', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
});

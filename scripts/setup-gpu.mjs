#!/usr/bin/env node
// Installs a native TensorFlow backend next to the workbench, on demand, because both packages
// download libtensorflow at install time (hundreds of MB; tfjs-node-gpu needs CUDA 11.2 + cuDNN 8.1).
//   npm run setup:gpu          -> @tensorflow/tfjs-node-gpu (NVIDIA + CUDA)
//   npm run setup:gpu -- --cpu -> @tensorflow/tfjs-node (native CPU kernels)
// The engine picks them up at run time (backend "auto" tries tfjs-node-gpu first); nothing else changes.
import { execFileSync } from 'node:child_process';

const cpu = process.argv.includes('--cpu');
const pkg = cpu ? '@tensorflow/tfjs-node@4.22.0' : '@tensorflow/tfjs-node-gpu@4.22.0';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
console.log(`Installing ${pkg} (downloads libtensorflow; this takes a while)...`);
try {
  execFileSync(npm, ['install', '--no-save', '--no-audit', '--no-fund', pkg], { stdio: 'inherit' });
} catch {
  console.error(
    `\nCould not install ${pkg}. It needs network access to download libtensorflow` +
      (cpu ? '.' : ', and an NVIDIA driver with CUDA 11.2 and cuDNN 8.1 to run.') +
      '\nThe workbench keeps working without it (WebGPU or WebAssembly).',
  );
  process.exit(1);
}
console.log(
  `\n${pkg} installed. New runs with backend "auto" will use it; the status bar shows the backend in use.`,
);

#!/bin/bash
# Packs what `scripts/device/run.sh` needs on a bare GPU machine with no Node.js and no network into
# .dev/ (git-ignored; ~48 MB): the CLI, its worker entries and scripts/gpu-check.ts bundled with
# esbuild (natives external), the few native packages, the node binary and MNIST, xz-compressed.
# Usage (repo root): bash scripts/device/bundle.sh [DATASETS_DIR]
set -euo pipefail
DATA=${1:-../shared/datasets}
rm -rf .dev && mkdir -p .dev/app .dev/datasets
node_modules/esbuild/bin/esbuild cli=src/main/cli/index.ts worker=src/main/services/engine/worker.ts \
  replica-worker=src/main/services/engine/replica-worker.ts gpu-check=scripts/gpu-check.ts \
  --bundle --platform=node --format=esm --splitting --outdir=.dev/app --log-level=warning \
  --external:better-sqlite3 --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --external:tsx --external:tsx/esm/api --external:@ffmpeg-installer/ffmpeg \
  --banner:js="import { createRequire as __nca_cr } from 'node:module'; const require = __nca_cr(import.meta.url);"
D=.dev/node_modules
mkdir -p $D/webgpu/dist/linux-x64 $D/better-sqlite3/build/Release $D/@tensorflow/tfjs-backend-webgpu/dist
cp node_modules/webgpu/{index.js,package.json} $D/webgpu/
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > $D/webgpu/dist/linux-x64/dawn.node.xz
cp -r node_modules/better-sqlite3/{package.json,lib} $D/better-sqlite3/
cp node_modules/better-sqlite3/build/Release/better_sqlite3.node $D/better-sqlite3/build/Release/
cp -r node_modules/bindings node_modules/file-uri-to-path $D/
# bundled already; initBackend only checks that the package resolves
cp node_modules/@tensorflow/tfjs-backend-webgpu/package.json $D/@tensorflow/tfjs-backend-webgpu/
echo 'export {};' > $D/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js
cp -r "$DATA/mnist" .dev/datasets/
xz -T0 -6 -c "$(command -v node)" > .dev/node.xz
du -sh .dev

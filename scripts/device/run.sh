#!/bin/bash
# On the GPU machine (repo root, after scripts/device/bundle.sh here): the WebGPU check, then a short
# real training run of the MNIST classifier on WebGPU, exported as a .ncarun. Writes to $OUT.
# Usage: bash scripts/device/run.sh [gpu-check flags]. LOCAL=1 skips unpacking the carried loaders.
set -u
OUT=${OUT:-/tmp/devout}; mkdir -p $OUT
T0=$(date +%s)
if [ -z "${LOCAL:-}" ]; then for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; fi
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f $ICD ] && export VK_DRIVER_FILES=$ICD
python3 - <<'PY'
import lzma, shutil, os
with lzma.open('.dev/node.xz') as s, open('/tmp/node', 'wb') as d: shutil.copyfileobj(s, d)
os.chmod('/tmp/node', 0o755)
p = '.dev/node_modules/webgpu/dist/linux-x64/dawn.node'
if not os.path.exists(p):
    with lzma.open(p + '.xz') as s, open(p, 'wb') as d: shutil.copyfileobj(s, d)
PY
N=/tmp/node
export NCA_DATASETS_PATH=$PWD/.dev/datasets
{ date; nvidia-smi -L; ls /usr/local/nvidia/share/vulkan/icd.d/; $N --version; nproc; } 2>&1 | tee $OUT/env.txt
echo "== gpu-check ($(($(date +%s)-T0)) s)"
timeout ${CHECK_S:-150} $N .dev/app/gpu-check.js "$@" > $OUT/gpu-check.jsonl 2> $OUT/gpu-check.err
echo "gpu-check exit $?"; grep '^{' $OUT/gpu-check.jsonl; tail -5 $OUT/gpu-check.err
echo "== train ($(($(date +%s)-T0)) s)"
timeout -s INT ${TRAIN_S:-240} $N .dev/app/cli.js train --preset ${PRESET:-distill-mnist} --name "distill-mnist on WebGPU (device check)" \
  --set compute.backend=webgpu ${TRAIN_SET:-} --set 'evaluation={"every":500,"images":1000,"steps":200,"mutateSteps":0}' \
  --set checkpoints.every=100000 --data-dir /tmp/data --json > $OUT/train.json 2> $OUT/train.log
echo "train exit $?"; tail -c 1500 $OUT/train.json; grep -v '^iter' $OUT/train.log | tail -8; grep '^iter' $OUT/train.log | tail -3
ID=$(grep -o "\"runId\":\"[a-z0-9]*\"" $OUT/train.json | tail -1 | cut -d\" -f4)
$N .dev/app/cli.js runs export $ID $OUT/webgpu-run.ncarun --checkpoints latest --data-dir /tmp/data
ls -la $OUT; echo "total $(($(date +%s)-T0)) s"

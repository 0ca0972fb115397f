#!/usr/bin/env bash
# The one device command (issue 16): install the carried wheels, check the plugin imports,
# run benchmarks/gpu.py, copy its table to $OUT.  Call through the device tool's run with
#   command: bash benchmarks/device/run_gpu.sh   carry: [".whl"]   timeout_s: 540
set -uo pipefail
cd "$(dirname "$0")/../.."
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv
python3 -c "import perceive_ir_arch, basicsr, open_clip, lmdb; print('imports ok', perceive_ir_arch.__version__)" || exit 1
mkdir -p "${OUT:-/tmp/out}"
timeout 480 python3 benchmarks/gpu.py --device cuda --out "${OUT:-/tmp/out}" 2>&1 | tee "${OUT:-/tmp/out}/gpu_log.txt"

#!/usr/bin/env bash
# Run here, once, before a device run: the packages the GPU machine lacks, as wheels in .whl/
# (ignored by git; carried with `carry: [".whl"]`). The device has Python 3.12, torch, timm,
# safetensors, opencv-python-headless, scikit-image, scipy, pyyaml, tqdm, huggingface_hub.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
rm -rf .whl && mkdir -p .whl
PIP="python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl"
$PIP open_clip_torch==3.3.0 ftfy==6.3.1 wcwidth==0.2.13 lmdb==1.6.2 addict==2.4.0 yapf==0.43.0 \
  platformdirs==4.3.6 future==1.0.0
# basicsr 1.4.2 is published as a source archive only: build its pure-Python wheel here
# (no CUDA extensions: BASICSR_EXT unset), against the torch of this machine's venv.
.venv/bin/pip wheel --no-deps --no-build-isolation -w .whl basicsr==1.4.2
ls -la .whl
du -sh .whl

"""benchmarks/gpu.py runs on a CPU at toy sizes, so that the device run is never its first."""
from __future__ import annotations

import json
import os

from tests.conftest import REPO, run_python


def test_the_gpu_benchmark_runs_quick_on_cpu_and_writes_its_table(tmp_path):
    proc = run_python([os.path.join('benchmarks', 'gpu.py'), '--device', 'cpu', '--quick',
                       '--out', str(tmp_path)], cwd=REPO, timeout=240)
    with open(tmp_path / 'gpu_cpu_quick.json') as f:
        data = json.load(f)
    failed = [r for r in data['rows'] if 'error' in r]
    assert not failed, failed
    parts = {(r['part'], r['variant']) for r in data['rows']}
    assert {('training step', 'fp32'), ('training step', 'fp32, NCHW'), ('training step', 'fp32, channels-last'),
            ('forward 32^2', 'bf16'), ('forward 64^2', 'fp32'),
            ('restore 64x64 (uint8 in/out)', 'bf16 (--half)')} <= parts
    shares = data['step_shares']
    assert set(shares) == {'forward', 'L1', 'L_cl', 'L_clip', 'L_dpl', 'whole step', 'backward + update'}
    assert data['step_flops'] > 0 and data['hours_for_500k'] > 0 and data['matmul_tflops'] > 0
    assert '| training step | fp32 |' in (tmp_path / 'gpu_cpu_quick.md').read_text()
    assert 'Best step:' in proc.stdout

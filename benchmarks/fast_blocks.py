"""The network's fast blocks against the plain reference blocks kept in the tests.

    python benchmarks/fast_blocks.py [--size 256] [--rounds 5] [--guidance on|off]

One process, one set of random weights: the default PerceiveIR and the same network with
every transformer block swapped for ``tests/reference_blocks.py`` (NCHW, layer norm via
mean / variance, explicit q / k normalisation).  Forward passes alternate between the two
(batch 1, fp32, no_grad), so a busy or throttled machine slows both alike; the table
gives the median of each, the speed ratio, the achieved GFLOP/s (torch's FLOP counter)
and the largest output difference.  Results: benchmarks/results/fast_blocks.{json,md}.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from _common import machine, report

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--guidance', choices=['on', 'off'], default='on')
    args = parser.parse_args()

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    sys.path.insert(0, REPO)
    from perceive_ir_arch.archs import PerceiveIR
    from tests.reference_blocks import reference_network

    torch.manual_seed(0)
    on = args.guidance == 'on'
    fast = PerceiveIR(semantic_guidance=on, degradation_guidance=on).eval()
    nets = {'fast blocks (PerceiveIR)': fast, 'reference blocks': reference_network(fast).eval()}
    x = torch.rand(1, 3, args.size, args.size)
    times: dict[str, list[float]] = {name: [] for name in nets}
    with torch.no_grad():
        counter = FlopCounterMode(display=False)
        with counter:
            out = fast(x)
        flops = counter.get_total_flops()
        diff = float((out - nets['reference blocks'](x)).abs().max())  # also the warm-up
        for _ in range(args.rounds):
            for name, net in nets.items():
                start = time.perf_counter()
                net(x)
                times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(t) for name, t in times.items()}
    ref = med['reference blocks']
    info = machine('cpu')
    cells = [[name, f'{med[name] * 1000:.0f}', f'{flops / 1e9 / med[name]:.1f}', f'{ref / med[name]:.2f}x']
             for name in nets]
    report('fast_blocks',
           f'PerceiveIR (guidance {args.guidance}) at {args.size}^2, batch 1, fp32, cpu, {flops / 1e9:.1f} '
           f'GFLOPs; median of {args.rounds} alternating passes; max |fast - reference| = {diff:.2e}; '
           f'machine: {info}',
           ['blocks', 'median ms', 'GFLOP/s', 'speed vs reference'], cells,
           {'machine': info, 'size': args.size, 'guidance': args.guidance, 'gflops': flops / 1e9,
            'times_s': times, 'max_abs_diff': diff})


if __name__ == '__main__':
    main()

"""The plain-PyTorch selective scan (MambaIR's SS2D) against the sequential recurrence.

    python benchmarks/selective_scan.py [--sizes 32 64 128] [--device cpu|cuda] [--repeat 3]

At MambaIR's colour-denoiser widths (4 scan orders x 216 channels, 16 states, 4 groups of
B / C), for square feature maps of the given sides (L = side^2 positions), in one process:
the chunked scan of ``perceive_ir_arch/archs/selective_scan.py`` and the recurrence one
position at a time (the definition, as mamba_ssm's ``selective_scan_ref`` loops), the
median of ``--repeat`` runs each, their ratio and their largest difference.  Results:
benchmarks/results/selective_scan.{json,md}.
"""
from __future__ import annotations

import argparse
import statistics
import time

from _common import machine, write_results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--sizes', type=int, nargs='+', default=[32, 64, 128])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()

    import torch

    from perceive_ir_arch.archs.selective_scan import selective_scan, selective_scan_reference

    dev = torch.device(args.device)

    def timed(fn):
        times = []
        for _ in range(args.repeat):
            if dev.type == 'cuda':
                torch.cuda.synchronize()
            start = time.perf_counter()
            out = fn()
            if dev.type == 'cuda':
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        return statistics.median(times), out

    rows = []
    g = torch.Generator().manual_seed(0)
    for side in args.sizes:
        length, dim, groups, n = side * side, 4 * 216, 4, 16
        u = torch.randn(1, dim, length, generator=g).to(dev)
        delta = (torch.randn(1, dim, length, generator=g) - 3).to(dev)
        A = -torch.arange(1, n + 1, dtype=torch.float32).repeat(dim, 1).to(dev)  # noqa: N806
        B = torch.randn(1, groups, n, length, generator=g).to(dev)  # noqa: N806
        C = torch.randn(1, groups, n, length, generator=g).to(dev)  # noqa: N806
        D, bias = torch.ones(dim, device=dev), torch.zeros(dim, device=dev)  # noqa: N806
        with torch.no_grad():
            t_chunk, y_chunk = timed(lambda: selective_scan(u, delta, A, B, C, D, bias, True))
            t_seq, y_seq = timed(lambda: selective_scan_reference(u, delta, A, B, C, D, bias))
        rows.append({'side': side, 'positions': length, 'chunked_s': t_chunk, 'sequential_s': t_seq,
                     'speedup': t_seq / t_chunk, 'max_abs_diff': float((y_chunk - y_seq).abs().max())})
    info = machine(args.device)
    lines = [f'Selective scan, MambaIR colour-denoiser widths (864 channels, 16 states), device {info["device"]}, '
             f'median of {args.repeat}; machine: {info}', '',
             '| feature map | positions | chunked s | sequential s | sequential / chunked | max abs diff |',
             '|---|---|---|---|---|---|']
    lines += [f'| {r["side"]} x {r["side"]} | {r["positions"]} | {r["chunked_s"]:.3f} | {r["sequential_s"]:.3f} | '
              f'{r["speedup"]:.2f} | {r["max_abs_diff"]:.1e} |' for r in rows]
    text = '\n'.join(lines)
    print(text)
    write_results('selective_scan' + ('_' + args.device if args.device != 'cpu' else ''),
                  {'rows': rows, 'machine': info}, text)


if __name__ == '__main__':
    main()

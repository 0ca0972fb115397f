"""Seconds and peak memory of tiled restoration with the default PerceiveIR.

    python benchmarks/restore_memory.py [--sizes 1024 2048 4096] [--tile 512] [--max-tiles 3]

Each size runs in a fresh process (peak RSS is per process): the default network
(33.9M parameters, DINOv2 ViT-B/14 with random weights: the weights do not change time
or memory) restores a synthetic uint8 photo through ``Restorer.restore``, the path of
``perceive-ir restore``, conversion to and from uint8 included.  With ``--max-tiles N``
only the first N tiles of a size run the network; the others pass through unchanged, so
the whole path (accumulation, blending, output conversion) still runs and its peak memory
is measured, while the time is extrapolated from the N real tiles (every tile has the
same shape); the table says which rows were extrapolated.
Results go to benchmarks/results/restore_memory.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from _common import machine, report


def child(size: int, tile: int, overlap: int, max_tiles: int, device: str) -> dict:
    import numpy as np
    import torch

    from perceive_ir_arch import PerceiveIR
    from perceive_ir_arch.inference import Restorer
    from perceive_ir_arch.utils.device import select_device

    torch.manual_seed(0)
    net = PerceiveIR()
    restorer = Restorer(net, select_device(device), tile=tile, tile_overlap=overlap)
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (size // 64, size // 64, 3), dtype=np.uint8)
    photo = np.ascontiguousarray(np.kron(small, np.ones((64, 64, 1), np.uint8)))
    rss_model = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    total = restorer.count_tiles(size, size)
    real_run, done = restorer._run, {'n': 0, 'seconds': 0.0}

    def run(x, **guidance):
        if max_tiles and done['n'] >= max_tiles:
            return x  # the rest of the path still runs; the network does not
        start = time.perf_counter()
        out = real_run(x, **guidance)
        done['seconds'] += time.perf_counter() - start
        done['n'] += 1
        return out

    restorer._run = run
    start = time.perf_counter()
    out = restorer.restore(photo)
    assert out.shape == photo.shape and out.dtype == photo.dtype
    overhead = time.perf_counter() - start - done['seconds']  # guidance, blending, conversion
    seconds = overhead + done['seconds'] * total / max(done['n'], 1)
    return {'size': size, 'tile': tile, 'overlap': overlap, 'tiles': total, 'tiles_run': done['n'],
            'seconds': seconds, 'extrapolated': done['n'] < total,
            'peak_rss_gib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2 ** 30,
            'rss_after_model_gib': rss_model / 2 ** 30}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--sizes', type=int, nargs='+', default=[1024, 2048, 4096])
    parser.add_argument('--tile', type=int, default=512)
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--max-tiles', type=int, default=0, help='stop each size after N tiles (0: all)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    parser.add_argument('--child', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.threads:
            import torch
            torch.set_num_threads(args.threads)
        print(json.dumps(child(args.child, args.tile, args.overlap, args.max_tiles, args.device)))
        return
    rows = []
    for size in args.sizes:
        cmd = [sys.executable, __file__, '--child', str(size), '--tile', str(args.tile),
               '--overlap', str(args.overlap), '--max-tiles', str(args.max_tiles),
               '--device', args.device, '--threads', str(args.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    info = machine(args.device)
    cells = [[f'{r["size"]}x{r["size"]}', f'{r["tiles"]} ({r["tiles_run"]})',
              f'{r["seconds"]:.0f}' + (' (extrapolated)' if r['extrapolated'] else ''),
              f'{r["peak_rss_gib"]:.2f}', f'{r["rss_after_model_gib"]:.2f}'] for r in rows]
    report('restore_memory', f'Tiled restoration, default PerceiveIR, tile {args.tile} overlap '
           f'{args.overlap}, {args.device}; machine: {info}',
           ['image', 'tiles (run)', 'seconds', 'peak RSS GiB', 'RSS after model GiB'], cells,
           {'machine': info, 'rows': rows})

if __name__ == '__main__':
    main()

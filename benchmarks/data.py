"""Samples per second of MixedDegradationDataset beside BasicSR's PairedImageDataset.

    python benchmarks/data.py [--batches 30] [--workers 0 1 2] [--gt-size 128]

Both datasets read the same pairs (the bundled training photos, each saved degraded with
sigma-25 noise, 20 copies under different names so the loader does real file work),
from disk and from LMDB (BasicSR's writer), with the same crop size, flips and batch 8.
The peer is measured in the same run, so the ratio is what to compare across machines.
Results: benchmarks/results/data.{json,md}.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

from _common import machine, report

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _make_pairs(root: str, copies: int) -> tuple[str, str]:
    import cv2
    import numpy as np

    from perceive_ir_arch.data.degradations import add_gaussian_noise

    lq_dir, gt_dir = os.path.join(root, 'lq'), os.path.join(root, 'gt')
    os.makedirs(lq_dir)
    os.makedirs(gt_dir)
    train = os.path.join(REPO, 'data', 'samples', 'train')
    rng = np.random.default_rng(0)
    for name in sorted(os.listdir(train)):
        bgr = cv2.imread(os.path.join(train, name), cv2.IMREAD_COLOR)
        noisy = add_gaussian_noise(bgr.astype(np.float32) / 255.0, rng, 25.0)
        for i in range(copies):
            stem = f'{os.path.splitext(name)[0]}_{i:02d}.png'
            cv2.imwrite(os.path.join(gt_dir, stem), bgr)
            cv2.imwrite(os.path.join(lq_dir, stem), (noisy * 255).round().astype(np.uint8))
    return lq_dir, gt_dir


def _rate(dataset, workers: int, batches: int) -> float:
    import torch

    loader = torch.utils.data.DataLoader(dataset, batch_size=8, shuffle=True, num_workers=workers,
                                         drop_last=True, persistent_workers=False)
    it = iter(loader)
    next(it)  # worker start-up is not throughput
    start = time.perf_counter()
    n = 0
    for _ in range(batches):
        try:
            batch = next(it)
        except StopIteration:
            it = iter(loader)
            batch = next(it)
        n += batch['lq'].shape[0]
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--batches', type=int, default=30)
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--gt-size', type=int, default=128)
    parser.add_argument('--copies', type=int, default=20)
    args = parser.parse_args()

    from basicsr.data.paired_image_dataset import PairedImageDataset

    import perceive_ir_arch  # noqa: F401
    from perceive_ir_arch.data import MixedDegradationDataset
    from perceive_ir_arch.data.make_lmdb import make_lmdb

    root = tempfile.mkdtemp(prefix='perceive_ir_data_bench_')
    try:
        lq_dir, gt_dir = _make_pairs(root, args.copies)
        make_lmdb(lq_dir)
        make_lmdb(gt_dir)
        # LMDB refuses a second handle on one environment in a process: the peer reads copies
        peer_lq, peer_gt = os.path.join(root, 'peer', 'lq'), os.path.join(root, 'peer', 'gt')
        for src, dst in ((lq_dir, peer_lq), (gt_dir, peer_gt)):
            shutil.copytree(src, dst)
            shutil.copytree(src + '.lmdb', dst + '.lmdb')
        rows = []
        for backend in ('disk', 'lmdb'):
            suffix = '.lmdb' if backend == 'lmdb' else ''
            peer = PairedImageDataset({
                'dataroot_lq': peer_lq + suffix, 'dataroot_gt': peer_gt + suffix, 'filename_tmpl': '{}',
                'io_backend': {'type': backend}, 'gt_size': args.gt_size, 'use_hflip': True,
                'use_rot': False, 'scale': 1, 'phase': 'train'})
            ours = MixedDegradationDataset({
                'name': 'bench', 'phase': 'train', 'gt_size': args.gt_size, 'use_hflip': True,
                'io_backend': {'type': backend},
                'sources': [{'task': 'denoise', 'layout': 'paired', 'dataroot_lq': lq_dir,
                             'dataroot_gt': gt_dir}]})
            assert len(ours) == len(peer), (len(ours), len(peer))
            for workers in args.workers:
                a, b = _rate(ours, workers, args.batches), _rate(peer, workers, args.batches)
                rows.append({'backend': backend, 'workers': workers, 'mixed_samples_per_s': a,
                             'paired_samples_per_s': b, 'ratio': a / b})
                print(rows[-1], flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    info = machine()
    cells = [[r['backend'], str(r['workers']), f'{r["mixed_samples_per_s"]:.0f}',
              f'{r["paired_samples_per_s"]:.0f}', f'{r["ratio"]:.2f}x'] for r in rows]
    report('data', f'Training samples per second, batch 8, {args.gt_size} px crops, {args.batches} '
           f'batches; machine: {info}',
           ['backend', 'workers', 'MixedDegradationDataset', 'PairedImageDataset (BasicSR)', 'ratio'],
           cells, {'machine': info, 'rows': rows})


if __name__ == '__main__':
    main()

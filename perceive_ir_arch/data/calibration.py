"""Where the synthetic degradations sit against the benchmarks they stand in for.

    python -m perceive_ir_arch.data.calibration [IMAGES ...] [--draws 8]

For each synthesised task, the input PSNR / SSIM (degraded against clean, RGB, 0-255,
SSIM as ``calculate_ssim_skimage``) of the given photos (default: the bundled ones),
``draws`` seeded draws each, beside the benchmark's published input figures.  The
synthesis counts as calibrated when the median over photos and draws lies within
``PSNR_BAND`` dB (and ``SSIM_BAND``) of the benchmark's mean input.  A photo's own figure
depends on its content (blur costs a fine texture far more than a smooth cat), so the
median, not every photo, is what is held to the band.
"""
from __future__ import annotations

import argparse
import glob
import os
from dataclasses import dataclass

import numpy as np
from basicsr.metrics import calculate_psnr

from ..metrics.ssim_skimage import ssim_uniform
from ..utils.image_io import decode_image
from .tasks import task_named

__all__ = ['BenchmarkInput', 'BENCHMARK_INPUTS', 'PSNR_BAND', 'SSIM_BAND', 'measure', 'calibration_table']

PSNR_BAND = 3.0
SSIM_BAND = 0.12


@dataclass(frozen=True)
class BenchmarkInput:
    """A benchmark's degraded test inputs against their ground truth, as published."""
    benchmark: str
    psnr: float
    ssim: float | None  # None: no published figure we could cite
    source: str


# data/README.md ("Calibration") gives the full references
BENCHMARK_INPUTS: dict[str, BenchmarkInput] = {
    'derain': BenchmarkInput('Rain100L test (100 pairs)', 26.90, 0.838,
                             'the "Input" row of the Rain100L tables (e.g. RCDNet, CVPR 2020)'),
    'dehaze': BenchmarkInput('SOTS outdoor (500 pairs)', 18.3, None,
                             'SOTS outdoor pairs measured by this project (issue 15); '
                             'RESIDE documents A in [0.8, 1.0], beta in [0.04, 0.2]'),
    'deblur': BenchmarkInput('GoPro test (1,111 pairs)', 25.6, None,
                             'the blurry-input figure reported for the GoPro test set'),
    'lowlight': BenchmarkInput('LOL eval15 (15 pairs)', 7.77, 0.19,
                               'the "Input" row of the LOL tables (e.g. KinD, Retinexformer)'),
}


def _read_rgb(path: str) -> np.ndarray:
    with open(path, 'rb') as f:
        return decode_image(f.read(), path)


def measure(task: str, images: dict[str, np.ndarray], draws: int = 8) -> dict[str, dict[str, float]]:
    """Mean input PSNR / SSIM of each image over ``draws`` seeded draws of ``task``, and
    the median over every image and draw under ``'median'``."""
    spec = task_named(task, 'task')
    out, all_p, all_s = {}, [], []
    for name, img in images.items():
        p, s = [], []
        for seed in range(draws):
            lq = spec.degrade(img, np.random.default_rng(seed))
            p.append(calculate_psnr(lq * 255.0, img * 255.0, crop_border=0))  # as the demo table
            s.append(ssim_uniform(lq.astype(np.float64), img.astype(np.float64)))
        out[name] = {'psnr': float(np.mean(p)), 'ssim': float(np.mean(s))}
        all_p += p
        all_s += s
    out['median'] = {'psnr': float(np.median(all_p)), 'ssim': float(np.median(all_s))}
    return out


def in_band(task: str, median: dict[str, float]) -> bool:
    """Whether a measured median sits within the bands around the benchmark's input."""
    ref = BENCHMARK_INPUTS[task]
    ok = abs(median['psnr'] - ref.psnr) <= PSNR_BAND
    return ok and (ref.ssim is None or abs(median['ssim'] - ref.ssim) <= SSIM_BAND)


def calibration_table(paths: list[str], draws: int = 8) -> str:
    """The markdown table ``main`` prints."""
    images = {os.path.splitext(os.path.basename(p))[0]: _read_rgb(p) for p in paths}
    lines = ['| task | benchmark input (psnr / ssim) | median here (psnr / ssim) | in band | per photo psnr |',
             '|---|---|---|---|---|']
    for task, ref in BENCHMARK_INPUTS.items():
        got = measure(task, images, draws)
        med = got.pop('median')
        ref_ssim = '-' if ref.ssim is None else f'{ref.ssim:.3f}'
        photos = ', '.join(f'{n} {v["psnr"]:.1f}' for n, v in got.items())
        lines.append(f'| {task} | {ref.benchmark}: {ref.psnr:.2f} / {ref_ssim} | '
                     f'{med["psnr"]:.2f} / {med["ssim"]:.3f} | {"yes" if in_band(task, med) else "NO"} | {photos} |')
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> None:
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(prog='python -m perceive_ir_arch.data.calibration',
                                     description=__doc__.split('\n\n')[0])
    parser.add_argument('images', nargs='*', help='clean photos (default: data/samples/*/*.png)')
    parser.add_argument('--draws', type=int, default=8, help='seeded draws per photo (default 8)')
    args = parser.parse_args(argv)
    paths = args.images or sorted(glob.glob(os.path.join(here, 'data', 'samples', '*', '*.png')))
    if not paths:
        parser.error('no images given and none found under data/samples/')
    for p in paths:
        if not os.path.isfile(p):
            parser.error(f'image {p}: no such file')
    print(f'synthetic degradations against benchmark inputs: {len(paths)} photos x {args.draws} draws; '
          f'band +-{PSNR_BAND:g} dB, +-{SSIM_BAND:g} SSIM')
    print(calibration_table(paths, args.draws))


if __name__ == '__main__':
    main()

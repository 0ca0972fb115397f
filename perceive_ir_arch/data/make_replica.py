"""A miniature replica of the 3-task and 5-task training and test folders.

    python -m perceive_ir_arch.data.make_replica ROOT [--images 2] [--seed 0]

Writes, under ROOT, the layout the shipped option files read (``datasets/`` in their
paths): the datasets' folder structure, file names, formats, image sizes and colour modes
and their pairing rules, with a few synthetic images per folder (smooth random scenes,
the degraded file made from its clean one), so that every stage of both recipes can be
rehearsed without the real data (``tests/test_recipe.py``).  ``REPLICA`` lists each
folder with where its facts come from (see also data/README.md).
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

import cv2
import numpy as np

from .folds import fold_of

__all__ = ['REPLICA', 'ReplicaFolder', 'make_replica']


@dataclass(frozen=True)
class ReplicaFolder:
    path: str              # under ROOT
    kind: str              # clean | rain_pairs | ots | sots | gopro | lol | input_target
    size: tuple[int, int]  # width, height
    ext: str
    grey: bool = False
    source: str = ''       # where the facts come from


REPLICA: tuple[ReplicaFolder, ...] = (
    ReplicaFolder('Train/Denoise/BSD400', 'clean', (180, 180), '.png', grey=True,
                  source="DnCNN's Train400 (BSD400): 400 grey 180x180 PNG, test_001.png ..."),
    ReplicaFolder('Train/Denoise/WED', 'clean', (500, 375), '.bmp',
                  source='Waterloo Exploration Database: 4,744 colour BMP, 00001.bmp ..., sizes vary'),
    ReplicaFolder('Train/Derain', 'rain_pairs', (481, 321), '.png',
                  source="PromptIR's install guide: rainy/rain-<id>.png, gt/norain-<id>.png (Rain100L train, 200 pairs)"),
    ReplicaFolder('Train/Dehaze', 'ots', (550, 413), '.jpg',
                  source="RESIDE OTS as PromptIR lays it out: synthetic/part<k>/<id>_<A>_<beta>.jpg, "
                         'original/<id>.jpg; many hazy versions of each clean image'),
    ReplicaFolder('Train/Deblur/GoPro/train', 'gopro', (1280, 720), '.png',
                  source='GoPro (Nah et al.): <sequence>/blur/<frame>.png, <sequence>/sharp/<frame>.png, 1280x720'),
    ReplicaFolder('Train/LowLight/LOL/our485', 'lol', (600, 400), '.png',
                  source='LOL-v1: our485/low/<n>.png, our485/high/<n>.png, 600x400'),
    ReplicaFolder('test/denoise/bsd68', 'clean', (481, 321), '.png',
                  source='CBSD68: 68 colour PNG, 481x321 or 321x481'),
    ReplicaFolder('test/derain/Rain100L', 'input_target', (481, 321), '.png',
                  source="Rain100L test as PromptIR lays it out: input/<name>.png, target/<name>.png (100 pairs)"),
    ReplicaFolder('test/dehaze', 'sots', (550, 413), '.jpg',
                  source='SOTS outdoor as PromptIR lays it out: input/<id>_<A>_<beta>.jpg, target/<id>.png (500 pairs)'),
    ReplicaFolder('test/deblur/GoPro/test', 'gopro', (1280, 720), '.png',
                  source='GoPro test: 1,111 pairs in sequences, 1280x720'),
    ReplicaFolder('test/lowlight/LOL/eval15', 'lol', (600, 400), '.png',
                  source='LOL-v1 eval15: low/<n>.png, high/<n>.png, 600x400'),
)


def _scene(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A smooth random colour scene with some edges, uint8 RGB."""
    small = rng.random((max(height // 24, 2), max(width // 24, 2), 3)).astype(np.float32)
    img = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    y, x = np.mgrid[0:height, 0:width]
    img += 0.15 * ((x // 40 + y // 40) % 2)[..., None]  # edges, so blur and noise matter
    return (np.clip(img / 1.15, 0, 1) * 255).round().astype(np.uint8)


def _write(path: str, rgb: np.ndarray, grey: bool = False) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if grey else rgb[..., ::-1]
    if not cv2.imwrite(path, np.ascontiguousarray(img)):
        raise OSError(f'cannot write {path!r}')


def _degrade(rng: np.random.Generator, img: np.ndarray, kind: str) -> np.ndarray:
    x = img.astype(np.float32) / 255
    if kind in ('rain_pairs', 'input_target'):
        streaks = (rng.random(x.shape[:2]) > 0.995).astype(np.float32)
        streaks = cv2.filter2D(streaks, -1, np.eye(9, dtype=np.float32) / 3)
        x = x + 0.6 * streaks[..., None]
    elif kind in ('ots', 'sots'):
        x = x * 0.6 + 0.4 * 0.85
    elif kind == 'gopro':
        x = cv2.blur(x, (9, 1))
    elif kind == 'lol':
        x = 0.08 * x ** 1.5
    return (np.clip(x, 0, 1) * 255).round().astype(np.uint8)


# one degraded and one clean file per scene: (degraded path, clean path) under the folder
_PAIRS = {'rain_pairs': ('rainy/rain-{n}{ext}', 'gt/norain-{n}{ext}'),
          'input_target': ('input/{n}{ext}', 'target/{n}{ext}'),
          'sots': ('input/{n:04d}_0.8_0.2{ext}', 'target/{n:04d}.png'),  # SOTS targets are PNG
          'lol': ('low/{n}{ext}', 'high/{n}{ext}')}

# task and scene key (as the dataset computes it) of a training folder's n-th name
_SCENES = {'Train/Denoise/BSD400': ('denoise', lambda n: f'BSD400/test_{n:03d}'),
           'Train/Denoise/WED': ('denoise', lambda n: f'WED/{n:05d}'),
           'Train/Derain': ('derain', lambda n: f'norain-{n}'),
           'Train/Dehaze': ('dehaze', lambda n: f'{n:04d}'),
           'Train/Deblur/GoPro/train': ('deblur', lambda n: f'GOPR{n:04d}_07_00'),
           'Train/LowLight/LOL/our485': ('lowlight', lambda n: f'{n}')}


def _numbers(folder: ReplicaFolder, images: int, first: int) -> list[int]:
    """Names numbered as the dataset numbers them; in a training folder, chosen so that
    the stage-1 folds alternate (with two images, each fold has one of each task)."""
    if folder.path not in _SCENES:
        return list(range(first, first + images))
    task, scene = _SCENES[folder.path]
    picked, n = [], first
    while len(picked) < images:
        if fold_of(task, scene(n)) == len(picked) % 2:
            picked.append(n)
        n += 1
    return picked


def make_replica(root: str, images: int = 2, seed: int = 0, test_images: int = 1) -> dict[str, int]:
    """Write the replica under ``root``: ``images`` scenes per training folder (two or
    more: one per stage-1 fold), ``test_images`` per test folder; returns the number of
    files per folder."""
    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    for folder in REPLICA:
        base = os.path.join(root, folder.path)
        w, h = folder.size
        written = 0
        first = {'ots': 25, 'gopro': 372, 'lol': 2}.get(folder.kind, 1)
        train = folder.path.startswith('Train/')
        for i, n in enumerate(_numbers(folder, images if train else test_images, first)):
            # alternate the orientation where the dataset has both (BSD: landscape and portrait)
            size = (h, w) if folder.kind in ('rain_pairs', 'input_target') and i % 2 else (w, h)
            clean = _scene(rng, *size)
            lq = _degrade(rng, clean, folder.kind)
            if folder.kind == 'clean':
                name = f'test_{n:03d}' if 'BSD400' in folder.path else (
                    f'{n:05d}' if 'WED' in folder.path else f'{3095 + n}')
                _write(os.path.join(base, name + folder.ext), clean, folder.grey)
                written += 1
            elif folder.kind in _PAIRS:  # one degraded file beside its clean one
                for path, img in zip(_PAIRS[folder.kind], (lq, clean)):
                    _write(os.path.join(base, path.format(n=n, ext=folder.ext)), img)
                written += 2
            elif folder.kind == 'ots':  # several hazy versions of one clean image, in parts
                scene = f'{n:04d}'
                _write(os.path.join(base, 'original', scene + folder.ext), clean)
                for part, (a, beta) in enumerate(((0.8, 0.2), (0.9, 0.16), (1, 0.08))):
                    hazy = _degrade(rng, clean, 'ots')
                    _write(os.path.join(base, 'synthetic', f'part{part % 2 + 1}', f'{scene}_{a}_{beta}{folder.ext}'), hazy)
                written += 4
            elif folder.kind == 'gopro':  # training sequences of two frames: one scene
                seq = f'GOPR{n:04d}_07_00'
                frames = (47, 48) if train else (47,)
                for frame in frames:
                    _write(os.path.join(base, seq, 'blur', f'{frame:06d}{folder.ext}'), lq)
                    _write(os.path.join(base, seq, 'sharp', f'{frame:06d}{folder.ext}'), clean)
                written += 2 * len(frames)
        counts[folder.path] = written
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='folder to write (the datasets/ of the option files)')
    parser.add_argument('--images', type=int, default=2, help='scenes per training folder (default 2)')
    parser.add_argument('--test-images', type=int, default=1, help='scenes per test folder (default 1)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    counts = make_replica(args.root, args.images, args.seed, args.test_images)
    for path, n in counts.items():
        print(f'{n:4d} files  {os.path.join(args.root, path)}')


if __name__ == '__main__':
    main()

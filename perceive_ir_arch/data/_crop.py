"""Random crop windows shared by the datasets, and the upscaling of images under the crop."""
from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ['fit_to_crop', 'random_window']


def fit_to_crop(img: np.ndarray, size: int) -> np.ndarray:
    """Upscale (bicubic) an H x W x C image in [0, 1] whose shorter side is under ``size``
    so that it equals ``size``; larger images come back as they are.

    Training sets hold such images (BSD400 is 180 x 180 throughout); the authors' release
    upsizes them rather than dropping them."""
    h, w = img.shape[:2]
    if min(h, w) >= size:
        return img
    scale = size / min(h, w)
    out = cv2.resize(np.ascontiguousarray(img), (max(size, math.ceil(w * scale)), max(size, math.ceil(h * scale))),
                     interpolation=cv2.INTER_CUBIC)
    out = out.reshape(out.shape[:2] + img.shape[2:])
    return np.clip(out, 0, 1, out=out)


def random_window(rng: np.random.Generator, h: int, w: int, size: int, where: str) -> tuple[int, int]:
    """(top, left) of a size x size window inside h x w; a clear error when it does not fit."""
    if h < size or w < size:
        raise ValueError(f'{where!r} is {w}x{h}, smaller than gt_size {size}; lower gt_size or '
                         'remove the image')
    return int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))

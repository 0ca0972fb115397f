"""Random crop windows shared by the datasets."""
from __future__ import annotations

import numpy as np

__all__ = ['random_window']


def random_window(rng: np.random.Generator, h: int, w: int, size: int, where: str) -> tuple[int, int]:
    """(top, left) of a size x size window inside h x w; a clear error when it does not fit."""
    if h < size or w < size:
        raise ValueError(f'{where!r} is {w}x{h}, smaller than gt_size {size}; lower gt_size or '
                         'remove the image')
    return int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))

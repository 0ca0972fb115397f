"""Restoring an image in overlapping tiles with bounded memory: tiles and blending only.

The image and the output accumulator stay on the CPU; one tile at a time goes to the
device.  Overlaps are blended with a raised-cosine ramp, so seams do not show.  What a
network needs to guide every tile as the whole image (``whole_image_guidance``) and its
memory per pixel (``inference_bytes``) are the network's own methods; ``Restorer.plan``
decides when to tile.
"""
from __future__ import annotations

import math
from typing import Callable, Iterator

import torch

from ..archs.layers import pad_to_multiple

__all__ = ['tile_starts', 'blend_window', 'tiles', 'restore_tiled', 'restore_tiles_alone', 'tile_for_budget',
           'partition_slices', 'restore_partitioned']


def tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of length ``tile`` covering ``size`` with at least ``overlap``."""
    if size <= tile:
        return [0]
    stride = max(tile - overlap, 1)
    starts = list(range(0, size - tile, stride))
    return starts + [size - tile]


def _ramp(length: int, overlap: int, ramp_start: bool, ramp_end: bool) -> torch.Tensor:
    w = torch.ones(length)
    n = min(overlap, length // 2)
    if n > 0:
        # (i + 0.5) / n keeps every weight above zero, so the normalisation never divides by 0
        r = 0.5 - 0.5 * torch.cos(math.pi * (torch.arange(n) + 0.5) / n)
        if ramp_start:
            w[:n] = r
        if ramp_end:
            w[-n:] = torch.minimum(w[-n:], r.flip(0))
    return w


def blend_window(h: int, w: int, overlap: int, top: bool, bottom: bool, left: bool,
                 right: bool) -> torch.Tensor:
    """1 x 1 x h x w weights ramping from ~0 to 1 over ``overlap`` px on the sides that
    border another tile (flags: that side has a neighbour)."""
    return (_ramp(h, overlap, top, bottom)[:, None] * _ramp(w, overlap, left, right)[None, :])[None, None]


def tiles(h: int, w: int, tile: int, overlap: int) -> Iterator[tuple[int, int, int, int]]:
    """(y0, y1, x0, x1) of every tile, row by row."""
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    for y0 in ys:
        for x0 in xs:
            yield y0, min(y0 + tile, h), x0, min(x0 + tile, w)


@torch.no_grad()
def restore_tiled(run: Callable[..., torch.Tensor], x: torch.Tensor, tile: int, overlap: int,
                  device: torch.device, guidance: dict[str, torch.Tensor] | None = None,
                  progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """Blend ``run(tile, **guidance)`` over overlapping tiles of ``x`` (1 x C x H x W).

    ``x`` and the result stay where ``x`` is (the CPU for large images); ``progress`` is
    called with 1 after each tile.
    """
    h, w = x.shape[-2:]
    out = torch.zeros(x.shape[:2] + (h, w), dtype=torch.float32, device=x.device)
    weight = torch.zeros(1, 1, h, w, dtype=torch.float32, device=x.device)
    for y0, y1, x0, x1 in tiles(h, w, tile, overlap):
        restored = run(x[..., y0:y1, x0:x1].to(device), **(guidance or {}))
        win = blend_window(y1 - y0, x1 - x0, overlap, y0 > 0, y1 < h, x0 > 0, x1 < w).to(x.device)
        out[..., y0:y1, x0:x1] += restored.float().to(x.device) * win
        weight[..., y0:y1, x0:x1] += win
        if progress is not None:
            progress(1)
    return out.div_(weight)  # in place: a 4096^2 image's accumulators are 270 MB each


@torch.no_grad()
def restore_tiles_alone(run: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, tile: int,
                        overlap: int, device: torch.device, multiple: int = 8,
                        progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """The authors' evaluator (``evaluate_stage2.py``): every tile restored on its own.

    The tiles are those of ``tiles`` (the release's positions: every ``tile - overlap`` px,
    the last flush with the edge); each is padded at the bottom / right to a multiple of
    ``multiple`` (reflected) and passed to ``run`` whole, so a network that guides itself
    computes its guidance from the padded tile; the outputs are cropped, clamped to [0, 1]
    and overlaps averaged with equal weights.
    """
    h, w = x.shape[-2:]
    out = torch.zeros(x.shape[:2] + (h, w), dtype=torch.float32, device=x.device)
    count = torch.zeros(1, 1, h, w, dtype=torch.float32, device=x.device)
    for y0, y1, x0, x1 in tiles(h, w, tile, overlap):
        padded, th, tw = pad_to_multiple(x[..., y0:y1, x0:x1].to(device), multiple)
        restored = run(padded)[..., :th, :tw].float().clamp(0, 1)
        out[..., y0:y1, x0:x1] += restored.to(x.device)
        count[..., y0:y1, x0:x1] += 1
        if progress is not None:
            progress(1)
    return out.div_(count)


def tile_for_budget(bytes_per_pixel: int, budget: int, multiple: int = 16, minimum: int = 64) -> int:
    """The largest square tile (a multiple of ``multiple``) that fits ``budget``."""
    side = int(math.sqrt(budget / max(bytes_per_pixel, 1))) // multiple * multiple
    return max(side, minimum)


def partition_slices(h: int, w: int, part: int = 200) -> tuple[int, int, list[tuple[slice, slice, slice, slice]]]:
    """MambaIR's test partition of an h x w image (after its reflect padding): the padded
    size, and per part (rows read, columns read, rows kept of the part's output, columns
    kept): ``side // part + 1`` parts per side, each read with a tenth of a part's size
    of overlap on its inner sides and written back without it."""
    nh, nw = h // part + 1, w // part + 1
    hp, wp = h + (-h) % nh, w + (-w) % nw
    sh, sw = hp // nh, wp // nw
    shave_h, shave_w = sh // 10, sw // 10

    def read(i: int, n: int, size: int, shave: int) -> slice:
        return slice(i * size - (shave if i > 0 else 0), (i + 1) * size + (shave if i < n - 1 else 0))

    cuts = []
    for i in range(nh):
        for j in range(nw):
            keep_h = slice(shave_h if i > 0 else 0, (shave_h if i > 0 else 0) + sh)
            keep_w = slice(shave_w if j > 0 else 0, (shave_w if j > 0 else 0) + sw)
            cuts.append((read(i, nh, sh, shave_h), read(j, nw, sw, shave_w), keep_h, keep_w))
    return hp, wp, cuts


@torch.no_grad()
def restore_partitioned(run: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, device: torch.device,
                        part: int = 200, progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """MambaIR's test (``MambaIRModel.test``): reflect-pad so each side splits evenly into
    ``side // part + 1`` parts, restore every part with its overlap alone, keep its own part."""
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    hp, wp, cuts = partition_slices(h, w, part)
    padded = F.pad(x, (0, wp - w, 0, hp - h), mode='reflect') if (hp, wp) != (h, w) else x
    out = torch.zeros(x.shape[:2] + (hp, wp), dtype=torch.float32, device=x.device)
    nh, nw = h // part + 1, w // part + 1
    sh, sw = hp // nh, wp // nw
    for k, (rows, cols, keep_h, keep_w) in enumerate(cuts):
        i, j = divmod(k, nw)
        restored = run(padded[..., rows, cols].to(device)).float().to(x.device)
        out[..., i * sh:(i + 1) * sh, j * sw:(j + 1) * sw] = restored[..., keep_h, keep_w]
        if progress is not None:
            progress(1)
    return out[..., :h, :w]

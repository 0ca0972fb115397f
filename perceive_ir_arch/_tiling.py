"""Restoring an image in overlapping tiles with bounded memory.

The image and the output accumulator stay on the CPU; one tile at a time goes to the
device.  Overlaps are blended with a raised-cosine ramp, so seams do not show.  For
PerceiveIR the guidance (DINOv2 class tokens and the degradation vector z) is computed
once for the whole image and shared by every tile, as the network sees it untiled:
the class tokens from a copy downscaled towards the encoder's input size, z from the
CFE features averaged over the whole image (tile by tile, exactly the global mean
pool apart from the CFE's zero padding at tile borders).
"""
from __future__ import annotations

import math
from typing import Callable, Iterator

import torch

__all__ = ['tile_starts', 'blend_window', 'tiles', 'whole_image_guidance', 'restore_tiled',
           'estimate_bytes', 'tile_for_budget']

# Peak activation memory of PerceiveIR inference per pixel and per unit of width `dim`
# (fp32), measured on CPU: about 6 KB/px at dim 48 for 256^2 and 4.9 KB/px for 512^2.
_BYTES_PER_PIXEL_PER_DIM = 128


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
def whole_image_guidance(net: torch.nn.Module, x: torch.Tensor, tile: int,
                         device: torch.device) -> dict[str, torch.Tensor]:
    """``forward`` keyword arguments (semantic=..., z=...) computed once for the whole
    image ``x`` (1 x 3 x H x W, any device) without moving all of it to ``device``."""
    guidance: dict[str, torch.Tensor] = {}
    encoder = getattr(net, 'semantic_encoder', None)
    if encoder is not None:
        guidance['semantic'] = net.semantic_features(encoder.shrink(x).to(device))
    cfe = getattr(net, 'cfe', None)
    if cfe is not None:
        step = max(16, tile // 16 * 16)  # the CFE strides by 16: aligned tiles pool exactly
        total, count = None, 0
        for y0 in range(0, x.shape[-2], step):
            for x0 in range(0, x.shape[-1], step):
                feat = cfe.features(x[..., y0:y0 + step, x0:x0 + step].to(device))
                s = feat.float().sum(dim=(2, 3))
                total = s if total is None else total + s
                count += feat.shape[-2] * feat.shape[-1]
        guidance['z'] = cfe.head((total / count).to(feat.dtype))
    return guidance


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


def estimate_bytes(net: torch.nn.Module, pixels: int, element_size: int = 4) -> int:
    """Rough peak inference memory of ``net`` on ``pixels`` pixels (activations only)."""
    width = int(getattr(net, 'config', {}).get('dim', 64))
    return pixels * width * _BYTES_PER_PIXEL_PER_DIM * element_size // 4


def tile_for_budget(net: torch.nn.Module, budget: int, element_size: int = 4,
                    multiple: int = 16, minimum: int = 64) -> int:
    """The largest square tile (a multiple of ``multiple``) whose estimate fits ``budget``."""
    per_pixel = max(estimate_bytes(net, 1, element_size), 1)
    side = int(math.sqrt(budget / per_pixel)) // multiple * multiple
    return max(side, minimum)

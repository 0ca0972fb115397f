"""PSNR of each image pair of a batch, on the GPU, for the training-time decisions
(L_dpl's lambda, the probe); the reported metrics are BasicSR's (8-bit, per image)."""
from __future__ import annotations

import torch

__all__ = ['batch_psnr']


def batch_psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """PSNR (dB) of each image pair in a batch, images in [0, 1]."""
    mse = (x.float().clamp(0, 1) - y.float()).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))

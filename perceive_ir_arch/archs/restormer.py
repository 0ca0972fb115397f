"""Restormer's pieces under the parameter names its descendants publish (PromptIR, AdaIR):
``norm1.body`` / ``attn`` / ``ffn`` blocks, ``body.0`` resampling convolutions without bias,
``patch_embed.proj``.  The computations are the shared blocks of ``layers.py``."""
from __future__ import annotations

import torch
from torch import nn

from .layers import ChannelLayerNorm, TransformerBlock

__all__ = ['RestormerNorm', 'RestormerBlock', 'restormer_blocks', 'Resample', 'PatchEmbed']


class RestormerNorm(nn.Module):
    """Restormer's LayerNorm wrapper: the norm's weights live under ``body``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.body = ChannelLayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class RestormerBlock(TransformerBlock):
    """Restormer's transformer block with upstream's names (norm1.body, attn, norm2.body, ffn)."""

    def __init__(self, dim: int, heads: int, expansion: float, bias: bool) -> None:
        super().__init__(dim, heads, expansion, bias)
        self.norm1, self.norm2 = RestormerNorm(dim), RestormerNorm(dim)


def restormer_blocks(n: int, dim: int, heads: int, expansion: float, bias: bool) -> nn.Sequential:
    return nn.Sequential(*[RestormerBlock(dim, heads, expansion, bias) for _ in range(n)])


class Resample(nn.Module):
    """conv3x3 (no bias) then pixel (un)shuffle; weights under ``body.0``."""

    def __init__(self, dim: int, up: bool) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(dim, dim * 2 if up else dim // 2, 3, padding=1, bias=False),
                                  nn.PixelShuffle(2) if up else nn.PixelUnshuffle(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class PatchEmbed(nn.Module):
    """The 3x3 embedding convolution (no bias) under ``proj``."""

    def __init__(self, dim: int, channels: int = 3) -> None:
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)

"""MambaIR (Guo et al., ECCV 2024) as csguoh/MambaIR publishes it
(``basicsr/archs/mambair_arch.py``; ``ColorDN_MambaIR_level{15,25,50}.pth``: BasicSR
``params``), with the same parameter names, for denoising (``upscale: 1``, no upsampler).

Residual groups of visual state-space blocks: each block scans its layer-normed features
in four directions (rows and columns, forwards and backwards) with a selective state
space model (2D-selective-scan, SS2D), then a channel-attention convolution block, each
added to a learned per-channel scaling of its input.  The scan is this project's plain
PyTorch one (``selective_scan.py``), so mamba_ssm and its CUDA kernel are not needed.
No padding is needed: every operation keeps the size.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import register_arch
from .selective_scan import selective_scan

__all__ = ['MambaIR']

_RGB_MEAN = (0.4488, 0.4371, 0.4040)  # upstream subtracts it before the network, adds it after


class _ChannelAttention(nn.Module):
    def __init__(self, c: int, squeeze: int) -> None:
        super().__init__()
        self.attention = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c // squeeze, 1), nn.ReLU(),
                                       nn.Conv2d(c // squeeze, c, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.attention(x)


class _CAB(nn.Module):
    def __init__(self, c: int, compress: int = 3, squeeze: int = 30) -> None:
        super().__init__()
        self.cab = nn.Sequential(nn.Conv2d(c, c // compress, 3, padding=1), nn.GELU(),
                                 nn.Conv2d(c // compress, c, 3, padding=1), _ChannelAttention(c, squeeze))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cab(x)


class SS2D(nn.Module):
    """2D selective scan: four scan orders share the input projection, each with its own
    x / dt projections, A and D (stacked along a leading axis of 4, as upstream stores them)."""

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 3, expand: float = 2.0) -> None:
        super().__init__()
        self.d_state = d_state
        self.d_inner = inner = int(expand * d_model)
        self.dt_rank = rank = math.ceil(d_model / 16)
        self.in_proj = nn.Linear(d_model, inner * 2, bias=False)
        self.conv2d = nn.Conv2d(inner, inner, d_conv, padding=(d_conv - 1) // 2, groups=inner)
        self.x_proj_weight = nn.Parameter(torch.randn(4, rank + 2 * d_state, inner) * inner ** -0.5)
        self.dt_projs_weight = nn.Parameter(torch.rand(4, inner, rank) * rank ** -0.5)
        self.dt_projs_bias = nn.Parameter(torch.full((4, inner), math.log(math.expm1(0.01))))
        self.A_logs = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(4 * inner, 1))
        self.Ds = nn.Parameter(torch.ones(4 * inner))
        self.out_norm = nn.LayerNorm(inner)
        self.out_proj = nn.Linear(inner, d_model, bias=False)

    def _scan(self, x: torch.Tensor) -> torch.Tensor:
        """B x D x H x W -> the four scans' outputs summed back in row order, B x D x L."""
        b, d, h, w = x.shape
        length = h * w
        rows = x.reshape(b, d, length)
        cols = x.transpose(2, 3).reshape(b, d, length)
        orders = torch.stack([rows, cols], dim=1)
        xs = torch.cat([orders, orders.flip(-1)], dim=1)  # B x 4 x D x L
        proj = torch.einsum('bkdl,kcd->bkcl', xs, self.x_proj_weight)
        dts, bs, cs = proj.split([self.dt_rank, self.d_state, self.d_state], dim=2)
        dts = torch.einsum('bkrl,kdr->bkdl', dts, self.dt_projs_weight)
        y = selective_scan(xs.reshape(b, 4 * d, length), dts.reshape(b, 4 * d, length),
                           -torch.exp(self.A_logs.float()), bs, cs, self.Ds, self.dt_projs_bias.reshape(-1),
                           delta_softplus=True).view(b, 4, d, length)
        back = y[:, 2:4].flip(-1)  # the reversed scans, in scan order again

        def rows_of(cols_order: torch.Tensor) -> torch.Tensor:  # column order -> row order
            return cols_order.reshape(b, d, w, h).transpose(2, 3).reshape(b, d, length)

        return y[:, 0] + back[:, 0] + rows_of(y[:, 1]) + rows_of(back[:, 1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # B x H x W x C
        b, h, w, _ = x.shape
        x, z = self.in_proj(x).chunk(2, dim=-1)
        x = F.silu(self.conv2d(x.permute(0, 3, 1, 2)))
        y = self._scan(x).transpose(1, 2).reshape(b, h, w, -1)
        return self.out_proj(self.out_norm(y) * F.silu(z))


class _VSSBlock(nn.Module):
    def __init__(self, dim: int, d_state: int, expand: float) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim)  # eps 1e-5: upstream's BasicLayer passes nn.LayerNorm
        self.self_attention = SS2D(dim, d_state, expand=expand)
        self.skip_scale = nn.Parameter(torch.ones(dim))
        self.conv_blk = _CAB(dim)
        self.ln_2 = nn.LayerNorm(dim)
        self.skip_scale2 = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # B x H x W x C
        x = x * self.skip_scale + self.self_attention(self.ln_1(x))
        return x * self.skip_scale2 + self.conv_blk(self.ln_2(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class _Blocks(nn.Module):  # upstream's BasicLayer: the blocks under ``blocks``
    def __init__(self, dim: int, depth: int, d_state: int, expand: float) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(_VSSBlock(dim, d_state, expand) for _ in range(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.blocks:
            x = blk(x)
        return x


class _ResidualGroup(nn.Module):
    def __init__(self, dim: int, depth: int, d_state: int, expand: float) -> None:
        super().__init__()
        self.residual_group = _Blocks(dim, depth, d_state, expand)
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # B x H x W x C
        y = self.residual_group(x).permute(0, 3, 1, 2)
        return self.conv(y).permute(0, 2, 3, 1) + x


class _Norm(nn.Module):  # upstream's PatchEmbed with a norm: the norm under ``norm``
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)


@register_arch
class MambaIR(nn.Module):
    """MambaIR for denoising with upstream's options; the colour denoisers:
    ``upscale=1, embed_dim=180, depths=[6, 6, 6, 6, 6, 6], d_state=16, mlp_ratio=1.2,
    img_range=1.0`` (``img_size`` is accepted and, as upstream, changes nothing)."""

    def __init__(self, img_size: int = 64, in_chans: int = 3, embed_dim: int = 96,
                 depths: Sequence[int] = (6, 6, 6, 6), d_state: int = 16, mlp_ratio: float = 2.0,
                 upscale: int = 1, img_range: float = 1.0, upsampler: str = '',
                 resi_connection: str = '1conv') -> None:
        super().__init__()
        if upscale != 1 or upsampler or resi_connection != '1conv' or in_chans != 3:
            raise ValueError('MambaIR: only the colour denoisers are provided (upscale: 1, no upsampler, '
                             "resi_connection: '1conv', in_chans: 3)")
        self.img_range = img_range
        self.register_buffer('mean', torch.tensor(_RGB_MEAN).view(1, 3, 1, 1), persistent=False)
        self.conv_first = nn.Conv2d(3, embed_dim, 3, padding=1)
        self.patch_embed = _Norm(embed_dim)
        self.layers = nn.ModuleList(_ResidualGroup(embed_dim, d, d_state, mlp_ratio) for d in depths)
        self.norm = nn.LayerNorm(embed_dim)
        self.conv_after_body = nn.Conv2d(embed_dim, embed_dim, 3, padding=1)
        self.conv_last = nn.Conv2d(embed_dim, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) * self.img_range
        first = self.conv_first(x)
        feat = self.patch_embed(first.permute(0, 2, 3, 1))  # B x H x W x C
        for layer in self.layers:
            feat = layer(feat)
        feat = self.norm(feat).permute(0, 3, 1, 2)
        x = x + self.conv_last(self.conv_after_body(feat) + first)
        return x / self.img_range + self.mean

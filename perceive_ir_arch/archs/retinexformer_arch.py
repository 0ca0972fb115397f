"""Retinexformer (Cai et al., ICCV 2023) as caiyuanhao1998/Retinexformer publishes it
(``basicsr/models/archs/RetinexFormer_arch.py``; ``LOL_v1.pth``: BasicSR ``params``),
with the same parameter names.

Each stage estimates an illumination map from the image and its channel mean (1x1, a
grouped 5x5, 1x1), lights the image up by it (``img * map + img``) and restores the
result with a two-level U-Net of illumination-guided attention blocks: channel
("transposed") attention whose values are multiplied by the illumination features,
plus a depthwise positional branch, then a layer-normed depthwise feed-forward.
Images are reflect-padded at the bottom / right to a multiple of 4, as upstream's test
script does, and cropped back.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import register_arch
from .layers import pad_to_multiple

__all__ = ['RetinexFormer']


class _IlluminationEstimator(nn.Module):
    def __init__(self, mid: int, cin: int = 4, cout: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 1)
        self.depth_conv = nn.Conv2d(mid, mid, 5, padding=2, groups=cin)
        self.conv2 = nn.Conv2d(mid, cout, 1)

    def forward(self, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.depth_conv(self.conv1(torch.cat([img, img.mean(dim=1, keepdim=True)], dim=1)))
        return features, self.conv2(features)


class _IlluminationGuidedAttention(nn.Module):  # upstream's IG_MSA, on B x H x W x C
    def __init__(self, dim: int, dim_head: int, heads: int) -> None:
        super().__init__()
        self.num_heads, self.dim_head = heads, dim_head
        self.to_q = nn.Linear(dim, dim_head * heads, bias=False)
        self.to_k = nn.Linear(dim, dim_head * heads, bias=False)
        self.to_v = nn.Linear(dim, dim_head * heads, bias=False)
        self.rescale = nn.Parameter(torch.ones(heads, 1, 1))
        self.proj = nn.Linear(dim_head * heads, dim)
        self.pos_emb = nn.Sequential(nn.Conv2d(dim, dim, 3, padding=1, bias=False, groups=dim), nn.GELU(),
                                     nn.Conv2d(dim, dim, 3, padding=1, bias=False, groups=dim))

    def forward(self, x: torch.Tensor, illumination: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        tokens = x.reshape(b, h * w, c)
        v_in = self.to_v(tokens)

        def heads(t: torch.Tensor) -> torch.Tensor:  # B x N x (heads d) -> B x heads x d x N
            return t.reshape(b, h * w, self.num_heads, self.dim_head).permute(0, 2, 3, 1)

        q, k = heads(self.to_q(tokens)), heads(self.to_k(tokens))
        v = heads(v_in * illumination.reshape(b, h * w, -1))
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        attn = (k @ q.transpose(-2, -1) * self.rescale).softmax(dim=-1)  # d x d per head
        out = (attn @ v).permute(0, 3, 1, 2).reshape(b, h * w, -1)
        out = self.proj(out).view(b, h, w, c)
        return out + self.pos_emb(v_in.reshape(b, h, w, c).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class _FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(dim, dim * mult, 1, bias=False), nn.GELU(),
                                 nn.Conv2d(dim * mult, dim * mult, 3, padding=1, bias=False, groups=dim * mult),
                                 nn.GELU(), nn.Conv2d(dim * mult, dim, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # B x H x W x C
        return self.net(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class _PreNorm(nn.Module):
    def __init__(self, dim: int, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class _IGAB(nn.Module):
    def __init__(self, dim: int, dim_head: int, heads: int, num_blocks: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.ModuleList([_IlluminationGuidedAttention(dim, dim_head, heads), _PreNorm(dim, _FeedForward(dim))])
            for _ in range(num_blocks))

    def forward(self, x: torch.Tensor, illumination: torch.Tensor) -> torch.Tensor:
        x, illumination = x.permute(0, 2, 3, 1), illumination.permute(0, 2, 3, 1)
        for attn, ff in self.blocks:
            x = attn(x, illumination) + x
            x = ff(x) + x
        return x.permute(0, 3, 1, 2)


class _Denoiser(nn.Module):
    def __init__(self, dim: int, level: int, num_blocks: Sequence[int]) -> None:
        super().__init__()
        self.level = level
        self.embedding = nn.Conv2d(3, dim, 3, padding=1, bias=False)
        self.encoder_layers = nn.ModuleList()
        d = dim
        for i in range(level):
            self.encoder_layers.append(nn.ModuleList([
                _IGAB(d, dim, d // dim, num_blocks[i]),
                nn.Conv2d(d, 2 * d, 4, stride=2, padding=1, bias=False),
                nn.Conv2d(d, 2 * d, 4, stride=2, padding=1, bias=False)]))
            d *= 2
        self.bottleneck = _IGAB(d, dim, d // dim, num_blocks[-1])
        self.decoder_layers = nn.ModuleList()
        for i in range(level):
            self.decoder_layers.append(nn.ModuleList([
                nn.ConvTranspose2d(d, d // 2, 2, stride=2),
                nn.Conv2d(d, d // 2, 1, bias=False),
                _IGAB(d // 2, dim, (d // 2) // dim, num_blocks[level - 1 - i])]))
            d //= 2
        self.mapping = nn.Conv2d(dim, 3, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor, illumination: torch.Tensor) -> torch.Tensor:
        fea = self.embedding(x)
        skips, lights = [], []
        for block, down, down_light in self.encoder_layers:
            fea = block(fea, illumination)
            skips.append(fea)
            lights.append(illumination)
            fea, illumination = down(fea), down_light(illumination)
        fea = self.bottleneck(fea, illumination)
        for up, fuse, block in self.decoder_layers:
            fea = block(fuse(torch.cat([up(fea), skips.pop()], dim=1)), lights.pop())
        return self.mapping(fea) + x


class _Stage(nn.Module):
    def __init__(self, n_feat: int, level: int, num_blocks: Sequence[int]) -> None:
        super().__init__()
        self.estimator = _IlluminationEstimator(n_feat)
        self.denoiser = _Denoiser(n_feat, level, num_blocks)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        features, light = self.estimator(img)
        return self.denoiser(img * light + img, features)


@register_arch
class RetinexFormer(nn.Module):
    """Retinexformer with upstream's options; the LOL-v1 model: ``n_feat=40, stage=1,
    num_blocks=[1, 2, 2]``."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, n_feat: int = 31, stage: int = 3,
                 num_blocks: Sequence[int] = (1, 1, 1)) -> None:
        super().__init__()
        if in_channels != 3 or out_channels != 3:
            raise ValueError('RetinexFormer: RGB in and out (in_channels: 3, out_channels: 3)')
        self.body = nn.Sequential(*[_Stage(n_feat, 2, num_blocks) for _ in range(stage)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, h, w = pad_to_multiple(x, 4)
        return self.body(x)[..., :h, :w]

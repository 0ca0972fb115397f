"""AdaIR (Cui et al., ICLR 2025) as c-yn/AdaIR publishes it (``net/model.py``; the 3-task and
5-task checkpoints are PyTorch Lightning files, the network under ``net.``), with the same
parameter names, so they load strictly.

PromptIR's Restormer U-Net without prompts; with ``decoder: true`` (the published models)
an adaptive frequency learning block (AFLB, upstream ``FreModule``) follows the latent level
and decoder levels 3 and 2.  It mines the degraded image's spectrum: the image, resized
bilinearly to the level and embedded by a 3x3 convolution, is split by a centred square
mask in the shifted 2-D FFT (its half-sides ``int(side // 128 * t)``, t from a small gate on
the features' mean) into a low and a high band (magnitudes of their inverse FFTs); each
band queries the level's features by channel cross-attention, a modulation block
(spatial gate from the high band on the low one, channel gate from the low band on the high
one) merges them, and the features attend to that merge; the result is added to the
features with learned per-channel weights (upstream starts them at 0 and 1).  Upstream
builds a 3x3 convolution and a 7x7 score convolution per block that its forward never uses
(``conv``, ``score_gen``); they are kept so the files load strictly.  Upstream takes images
whose sides are multiples of 8; this one reflect-pads at the bottom / right and crops back.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import register_arch
from .layers import PromptGuidedCrossAttention, pad_to_multiple
from .restormer import PatchEmbed, Resample, restormer_blocks

__all__ = ['AdaIR']


class ChannelCrossAttention(PromptGuidedCrossAttention):
    """Upstream's ``Chanel_Cross_Attention(x, y)``: the query from x, key and value from y
    (the same layers as PGCA, whose arguments come the other way round)."""

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(y, x)


class SpatialGate(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.spatial = nn.Conv2d(2, 1, 7, padding=3, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], dim=1)
        return torch.sigmoid(self.spatial(pooled))


class ChannelGate(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Conv2d(dim, dim // 16, 1, bias=False), nn.ReLU(),
                                 nn.Conv2d(dim // 16, dim, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.mlp(x.mean((2, 3), keepdim=True)) + self.mlp(x.amax((2, 3), keepdim=True)))


class FrequencyModulation(nn.Module):
    """Upstream's ``FreRefine`` (FMoM)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.SpatialGate = SpatialGate()  # noqa: N815  (upstream's names)
        self.ChannelGate = ChannelGate(dim)  # noqa: N815
        self.proj = nn.Conv2d(dim, dim, 1)

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        return self.proj(low * self.SpatialGate(high) + high * self.ChannelGate(low))


class FrequencyBlock(nn.Module):
    """Upstream's ``FreModule`` (AFLB): the level's features y refined by the image's bands."""

    band = 128  # the mask's half-side is int(side // band * t)

    def __init__(self, dim: int, num_heads: int, bias: bool, in_dim: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_dim, dim, 3, padding=1, bias=False)  # unused upstream too
        self.conv1 = nn.Conv2d(in_dim, dim, 3, padding=1, bias=False)
        self.score_gen = nn.Conv2d(2, 2, 7, padding=3)  # unused upstream too
        self.para1 = nn.Parameter(torch.zeros(dim, 1, 1))
        self.para2 = nn.Parameter(torch.ones(dim, 1, 1))
        self.channel_cross_l = ChannelCrossAttention(dim, num_heads, bias)
        self.channel_cross_h = ChannelCrossAttention(dim, num_heads, bias)
        self.channel_cross_agg = ChannelCrossAttention(dim, num_heads, bias)
        self.frequency_refine = FrequencyModulation(dim)
        self.rate_conv = nn.Sequential(nn.Conv2d(dim, dim // 8, 1, bias=False), nn.GELU(),
                                       nn.Conv2d(dim // 8, 2, 1, bias=False))

    def bands(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(high, low): magnitudes of the embedded image outside / inside the centred mask."""
        x = self.conv1(x)
        h, w = x.shape[-2:]
        rate = torch.sigmoid(self.rate_conv(x.mean((2, 3), keepdim=True)))[:, :, 0, 0]  # B x 2
        half_h = (h // self.band * rate[:, 0]).int()  # truncated toward zero, as upstream
        half_w = (w // self.band * rate[:, 1]).int()
        rows, cols = torch.arange(h, device=x.device), torch.arange(w, device=x.device)
        inside_h = (rows[None] >= h // 2 - half_h[:, None]) & (rows[None] < h // 2 + half_h[:, None])
        inside_w = (cols[None] >= w // 2 - half_w[:, None]) & (cols[None] < w // 2 + half_w[:, None])
        mask = (inside_h[:, :, None] & inside_w[:, None, :])[:, None].to(x.dtype)  # B x 1 x H x W
        shift = (int(h / 2), int(w / 2))
        spectrum = torch.roll(torch.fft.fft2(x, norm='forward'), shifts=shift, dims=(2, 3))

        def back(part: torch.Tensor) -> torch.Tensor:
            unrolled = torch.roll(part, shifts=(-shift[0], -shift[1]), dims=(2, 3))
            return torch.fft.ifft2(unrolled, norm='forward').abs()

        return back(spectrum * (1 - mask)), back(spectrum * mask)

    def forward(self, image: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        image = F.interpolate(image, y.shape[-2:], mode='bilinear', align_corners=False)
        high, low = self.bands(image)
        high = self.channel_cross_l(high, y)
        low = self.channel_cross_h(low, y)
        merged = self.frequency_refine(low, high)
        return self.channel_cross_agg(y, merged) * self.para1 + y * self.para2


@register_arch
class AdaIR(nn.Module):
    """AdaIR with upstream's options; the published models are ``AdaIR(decoder=True)`` with
    the defaults (28.8M parameters)."""

    def __init__(self, inp_channels: int = 3, out_channels: int = 3, dim: int = 48,
                 num_blocks: Sequence[int] = (4, 6, 6, 8), num_refinement_blocks: int = 4,
                 heads: Sequence[int] = (1, 2, 4, 8), ffn_expansion_factor: float = 2.66,
                 bias: bool = False, LayerNorm_type: str = 'WithBias', decoder: bool = True) -> None:  # noqa: N803
        super().__init__()
        if LayerNorm_type != 'WithBias' or inp_channels != 3 or out_channels != 3:
            raise ValueError('AdaIR: only the published configuration (WithBias layer norm, RGB in and out) '
                             'is provided')
        n, h, e, b = num_blocks, heads, ffn_expansion_factor, bias
        self.patch_embed = PatchEmbed(dim)
        self.decoder = decoder
        if decoder:  # every block attends with the level-3 head count, as upstream
            self.fre1 = FrequencyBlock(dim * 8, h[2], b)
            self.fre2 = FrequencyBlock(dim * 4, h[2], b)
            self.fre3 = FrequencyBlock(dim * 2, h[2], b)
        self.encoder_level1 = restormer_blocks(n[0], dim, h[0], e, b)
        self.down1_2 = Resample(dim, up=False)
        self.encoder_level2 = restormer_blocks(n[1], dim * 2, h[1], e, b)
        self.down2_3 = Resample(dim * 2, up=False)
        self.encoder_level3 = restormer_blocks(n[2], dim * 4, h[2], e, b)
        self.down3_4 = Resample(dim * 4, up=False)
        self.latent = restormer_blocks(n[3], dim * 8, h[3], e, b)
        self.up4_3 = Resample(dim * 8, up=True)
        self.reduce_chan_level3 = nn.Conv2d(dim * 8, dim * 4, 1, bias=b)
        self.decoder_level3 = restormer_blocks(n[2], dim * 4, h[2], e, b)
        self.up3_2 = Resample(dim * 4, up=True)
        self.reduce_chan_level2 = nn.Conv2d(dim * 4, dim * 2, 1, bias=b)
        self.decoder_level2 = restormer_blocks(n[1], dim * 2, h[1], e, b)
        self.up2_1 = Resample(dim * 2, up=True)
        self.decoder_level1 = restormer_blocks(n[0], dim * 2, h[0], e, b)
        self.refinement = restormer_blocks(num_refinement_blocks, dim * 2, h[0], e, b)
        self.output = nn.Conv2d(dim * 2, out_channels, 3, padding=1, bias=b)

    def _refined(self, block: str, image: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return getattr(self, block)(image, y) if self.decoder else y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inp, h, w = pad_to_multiple(x, 8)
        enc1 = self.encoder_level1(self.patch_embed(inp))
        enc2 = self.encoder_level2(self.down1_2(enc1))
        enc3 = self.encoder_level3(self.down2_3(enc2))
        latent = self._refined('fre1', inp, self.latent(self.down3_4(enc3)))
        dec3 = self.decoder_level3(self.reduce_chan_level3(torch.cat([self.up4_3(latent), enc3], 1)))
        dec3 = self._refined('fre2', inp, dec3)
        dec2 = self.decoder_level2(self.reduce_chan_level2(torch.cat([self.up3_2(dec3), enc2], 1)))
        dec2 = self._refined('fre3', inp, dec2)
        dec1 = self.decoder_level1(torch.cat([self.up2_1(dec2), enc1], 1))
        out = self.output(self.refinement(dec1)) + inp
        return out[..., :h, :w]

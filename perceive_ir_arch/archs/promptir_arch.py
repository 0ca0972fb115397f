"""PromptIR (Potlapalli et al., NeurIPS 2023) as va1shn9v/PromptIR publishes it
(``net/model.py``, the all-in-one ``model.ckpt``), with the same parameter names, so its
Lightning checkpoint (``state_dict`` under the ``net.`` prefix) loads strictly.

A Restormer U-Net whose decoder, with ``decoder: true`` (the published model), mixes a
learned prompt into each level: a prompt generation block weighs ``prompt_len`` learned
prompt maps by a softmax of a linear map of the features' spatial mean, resizes their sum
bilinearly to the features and passes it through a 3x3 convolution; a transformer block
then runs over [features, prompt] and a 1x1 convolution reduces the channels.  Upstream
builds three 1x1 convolutions per side that its forward never uses
(``chnl_reduce*``, ``reduce_noise_channel_*``); they are kept so the file loads strictly.
Upstream takes images whose sides are multiples of 8; this one reflect-pads at the
bottom / right to a multiple of 8 and crops back (as PerceiveIR does).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import register_arch
from .layers import pad_to_multiple
from .restormer import PatchEmbed, Resample, RestormerBlock, restormer_blocks

__all__ = ['PromptIR']


class PromptGenBlock(nn.Module):
    """Prompts weighted by the features' content, resized to them."""

    def __init__(self, prompt_dim: int, prompt_len: int, prompt_size: int, lin_dim: int) -> None:
        super().__init__()
        self.prompt_param = nn.Parameter(torch.rand(1, prompt_len, prompt_dim, prompt_size, prompt_size))
        self.linear_layer = nn.Linear(lin_dim, prompt_len)
        self.conv3x3 = nn.Conv2d(prompt_dim, prompt_dim, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = F.softmax(self.linear_layer(x.mean(dim=(-2, -1))), dim=1)  # B x len
        prompt = torch.einsum('bl,lchw->bchw', weights, self.prompt_param[0])
        prompt = F.interpolate(prompt, x.shape[-2:], mode='bilinear', align_corners=False)
        return self.conv3x3(prompt)


@register_arch
class PromptIR(nn.Module):
    """PromptIR with upstream's options; the published all-in-one model is
    ``PromptIR(decoder=True)`` with the defaults (35.6M parameters).  Upstream writes the
    prompt widths as numbers that fit ``dim: 48`` only; ``prompt_dims`` / ``prompt_sizes`` /
    ``prompt_len`` (defaults: upstream's) let other widths connect (tests build it small).
    Without the decoder prompts upstream's widths do not connect: ``decoder: false`` is
    refused."""

    def __init__(self, inp_channels: int = 3, out_channels: int = 3, dim: int = 48,
                 num_blocks: Sequence[int] = (4, 6, 6, 8), num_refinement_blocks: int = 4,
                 heads: Sequence[int] = (1, 2, 4, 8), ffn_expansion_factor: float = 2.66,
                 bias: bool = False, LayerNorm_type: str = 'WithBias', decoder: bool = True,  # noqa: N803
                 prompt_dims: Sequence[int] = (64, 128, 320), prompt_sizes: Sequence[int] = (64, 32, 16),
                 prompt_len: int = 5) -> None:
        super().__init__()
        if not decoder:
            raise ValueError('PromptIR: decoder: false leaves upstream\'s widths unconnected (its '
                             'latent level feeds a 192-channel upsampler); the published model has decoder: true')
        if LayerNorm_type != 'WithBias' or inp_channels != 3 or out_channels != 3:
            raise ValueError('PromptIR: only the published configuration (WithBias layer norm, RGB in and out) '
                             'is provided')
        n, h, e, b = num_blocks, heads, ffn_expansion_factor, bias
        p1, p2, p3 = prompt_dims
        self.patch_embed = PatchEmbed(dim)
        self.decoder = decoder
        # prompts for levels 1-3, read from the features they are mixed into
        self.prompt1 = PromptGenBlock(p1, prompt_len, prompt_sizes[0], dim * 2)
        self.prompt2 = PromptGenBlock(p2, prompt_len, prompt_sizes[1], dim * 4)
        self.prompt3 = PromptGenBlock(p3, prompt_len, prompt_sizes[2], dim * 8)
        # built by upstream, never used by its forward: kept for the published key schema
        # (upstream's literal widths: 256 = 4/5 of the level-3 prompt)
        self.chnl_reduce1 = nn.Conv2d(p1, p1, 1, bias=b)
        self.chnl_reduce2 = nn.Conv2d(p2, p2, 1, bias=b)
        self.chnl_reduce3 = nn.Conv2d(p3, p3 * 4 // 5, 1, bias=b)
        self.reduce_noise_channel_1 = nn.Conv2d(dim + p1, dim, 1, bias=b)
        self.encoder_level1 = restormer_blocks(n[0], dim, h[0], e, b)
        self.down1_2 = Resample(dim, up=False)
        self.reduce_noise_channel_2 = nn.Conv2d(dim * 2 + p2, dim * 2, 1, bias=b)
        self.encoder_level2 = restormer_blocks(n[1], dim * 2, h[1], e, b)
        self.down2_3 = Resample(dim * 2, up=False)
        self.reduce_noise_channel_3 = nn.Conv2d(dim * 4 + p3 * 4 // 5, dim * 4, 1, bias=b)
        self.encoder_level3 = restormer_blocks(n[2], dim * 4, h[2], e, b)
        self.down3_4 = Resample(dim * 4, up=False)
        self.latent = restormer_blocks(n[3], dim * 8, h[3], e, b)
        # the prompted latent is reduced to dim * 4 before upsampling (upstream's widths)
        self.up4_3 = Resample(dim * 4, up=True)
        self.reduce_chan_level3 = nn.Conv2d(dim * 6, dim * 4, 1, bias=b)
        self.noise_level3 = RestormerBlock(dim * 8 + p3, h[2], e, b)
        self.reduce_noise_level3 = nn.Conv2d(dim * 8 + p3, dim * 4, 1, bias=b)
        self.decoder_level3 = restormer_blocks(n[2], dim * 4, h[2], e, b)
        self.up3_2 = Resample(dim * 4, up=True)
        self.reduce_chan_level2 = nn.Conv2d(dim * 4, dim * 2, 1, bias=b)
        self.noise_level2 = RestormerBlock(dim * 4 + p2, h[2], e, b)
        self.reduce_noise_level2 = nn.Conv2d(dim * 4 + p2, dim * 4, 1, bias=b)
        self.decoder_level2 = restormer_blocks(n[1], dim * 2, h[1], e, b)
        self.up2_1 = Resample(dim * 2, up=True)
        self.noise_level1 = RestormerBlock(dim * 2 + p1, h[2], e, b)
        self.reduce_noise_level1 = nn.Conv2d(dim * 2 + p1, dim * 2, 1, bias=b)
        self.decoder_level1 = restormer_blocks(n[0], dim * 2, h[0], e, b)
        self.refinement = restormer_blocks(num_refinement_blocks, dim * 2, h[0], e, b)
        self.output = nn.Conv2d(dim * 2, out_channels, 3, padding=1, bias=b)

    @staticmethod
    def _prompted(x: torch.Tensor, prompt: PromptGenBlock, block: RestormerBlock, reduce: nn.Conv2d) -> torch.Tensor:
        return reduce(block(torch.cat([x, prompt(x)], dim=1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inp, h, w = pad_to_multiple(x, 8)
        enc1 = self.encoder_level1(self.patch_embed(inp))
        enc2 = self.encoder_level2(self.down1_2(enc1))
        enc3 = self.encoder_level3(self.down2_3(enc2))
        latent = self.latent(self.down3_4(enc3))
        latent = self._prompted(latent, self.prompt3, self.noise_level3, self.reduce_noise_level3)
        dec3 = self.decoder_level3(self.reduce_chan_level3(torch.cat([self.up4_3(latent), enc3], 1)))
        dec3 = self._prompted(dec3, self.prompt2, self.noise_level2, self.reduce_noise_level2)
        dec2 = self.decoder_level2(self.reduce_chan_level2(torch.cat([self.up3_2(dec3), enc2], 1)))
        dec2 = self._prompted(dec2, self.prompt1, self.noise_level1, self.reduce_noise_level1)
        dec1 = self.decoder_level1(torch.cat([self.up2_1(dec2), enc1], 1))
        out = self.output(self.refinement(dec1)) + inp
        return out[..., :h, :w]

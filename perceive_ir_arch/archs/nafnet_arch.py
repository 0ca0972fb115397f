"""NAFNet (Chen et al., "Simple Baselines for Image Restoration", ECCV 2022), as
megvii-research/NAFNet publishes it: the same parameter names, so its files
(``NAFNet-GoPro-width32.pth``: BasicSR ``params``) load strictly.

A U-Net of NAFBlocks: layer norm over channels, a 1x1 expansion, a depthwise 3x3, a
simple gate (the product of the two channel halves), simplified channel attention (a
global average through a 1x1), then a gated 1x1 feed-forward; both branches enter the
residual through learned per-channel scales ``beta`` / ``gamma``.  Images are zero-padded
at the bottom / right to a multiple of 2^levels and the output is cropped back.

``NAFNetLocal`` is the network the publisher tests GoPro with (TLSC): the same weights, its
channel attention's global average replaced by a local one whose window is 1.5 times the
level's size at the training crop (``train_size``, 256), so an image larger than that
window is attended window by window as the training crops were.  The authors' Perceive-IR
release builds plain NAFNet for its hard negative; restoring by name uses the local one.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import register_arch
from .layers import ChannelLayerNorm, window_average

__all__ = ['NAFNet', 'NAFNetLocal', 'NAFBlock', 'LocalAverage']


def simple_gate(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=1)
    return a * b


class LocalAverage(nn.Module):
    """Upstream's ``AvgPool2d`` of ``Local_Base.convert`` (not ``fast_imp``): the global mean
    while the window covers the input, else ``window_average`` over the window."""

    def __init__(self, kernel: tuple[int, int]) -> None:
        super().__init__()
        self.kernel = kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel[0] >= x.shape[-2] and self.kernel[1] >= x.shape[-1]:
            return x.mean((-2, -1), keepdim=True)
        return window_average(x, *self.kernel)


class NAFBlock(nn.Module):
    def __init__(self, c: int, dw_expand: int = 2, ffn_expand: int = 2) -> None:
        super().__init__()
        dw = c * dw_expand
        self.conv1 = nn.Conv2d(c, dw, 1)
        self.conv2 = nn.Conv2d(dw, dw, 3, padding=1, groups=dw)
        self.conv3 = nn.Conv2d(dw // 2, c, 1)
        self.sca = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dw // 2, dw // 2, 1))
        self.conv4 = nn.Conv2d(c, ffn_expand * c, 1)
        self.conv5 = nn.Conv2d(ffn_expand * c // 2, c, 1)
        self.norm1 = ChannelLayerNorm(c, eps=1e-6)  # NAFNet's LayerNorm2d
        self.norm2 = ChannelLayerNorm(c, eps=1e-6)
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x = simple_gate(self.conv2(self.conv1(self.norm1(inp))))
        y = inp + self.conv3(x * self.sca(x)) * self.beta
        return y + self.conv5(simple_gate(self.conv4(self.norm2(y)))) * self.gamma


@register_arch
class NAFNet(nn.Module):
    """NAFNet with upstream's options: ``width`` at level 1 (doubling per level),
    ``enc_blk_nums`` / ``dec_blk_nums`` blocks per level, ``middle_blk_num`` at the bottom.
    The GoPro width-32 model: ``width=32, enc_blk_nums=[1, 1, 1, 28], middle_blk_num=1,
    dec_blk_nums=[1, 1, 1, 1]``."""

    def __init__(self, img_channel: int = 3, width: int = 16, middle_blk_num: int = 1,
                 enc_blk_nums: Sequence[int] = (), dec_blk_nums: Sequence[int] = ()) -> None:
        super().__init__()
        if len(enc_blk_nums) != len(dec_blk_nums):
            raise ValueError(f'NAFNet: enc_blk_nums {list(enc_blk_nums)} and dec_blk_nums '
                             f'{list(dec_blk_nums)} need one entry per level each')
        self.intro = nn.Conv2d(img_channel, width, 3, padding=1)
        self.ending = nn.Conv2d(width, img_channel, 3, padding=1)
        self.encoders, self.downs = nn.ModuleList(), nn.ModuleList()
        self.ups, self.decoders = nn.ModuleList(), nn.ModuleList()
        c = width
        for n in enc_blk_nums:
            self.encoders.append(nn.Sequential(*[NAFBlock(c) for _ in range(n)]))
            self.downs.append(nn.Conv2d(c, 2 * c, 2, stride=2))
            c *= 2
        self.middle_blks = nn.Sequential(*[NAFBlock(c) for _ in range(middle_blk_num)])
        for n in dec_blk_nums:
            self.ups.append(nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), nn.PixelShuffle(2)))
            c //= 2
            self.decoders.append(nn.Sequential(*[NAFBlock(c) for _ in range(n)]))
        self.multiple = 2 ** len(self.encoders)

    def conditioned(self, x: torch.Tensor, side: str, level: int, *condition: torch.Tensor) -> torch.Tensor:
        """The features after an encoder (``side`` 'enc') or decoder ('dec') level: as they
        are here; InstructIR conditions them on its instruction."""
        return x

    def forward(self, inp: torch.Tensor, *condition: torch.Tensor) -> torch.Tensor:
        h, w = inp.shape[-2:]
        inp = F.pad(inp, (0, (-w) % self.multiple, 0, (-h) % self.multiple))
        x = self.intro(inp)
        skips = []
        for level, (encoder, down) in enumerate(zip(self.encoders, self.downs)):
            x = self.conditioned(encoder(x), 'enc', level, *condition)
            skips.append(x)
            x = down(x)
        x = self.middle_blks(x)
        for level, (decoder, up, skip) in enumerate(zip(self.decoders, self.ups, reversed(skips))):
            x = self.conditioned(decoder(up(x) + skip), 'dec', level, *condition)
        return (self.ending(x) + inp)[..., :h, :w]


@register_arch
class NAFNetLocal(NAFNet):
    """NAFNet with the publisher's local statistics (TLSC) for testing; ``train_size``: the
    training input (N, C, H, W) whose 1.5 times sets each level's window."""

    def __init__(self, img_channel: int = 3, width: int = 16, middle_blk_num: int = 1,
                 enc_blk_nums: Sequence[int] = (), dec_blk_nums: Sequence[int] = (),
                 train_size: Sequence[int] = (1, 3, 256, 256)) -> None:
        super().__init__(img_channel, width, middle_blk_num, enc_blk_nums, dec_blk_nums)
        th, tw = int(train_size[-2]), int(train_size[-1])
        base = (int(th * 1.5), int(tw * 1.5))

        def localise(blocks: nn.Sequential, level: int) -> None:
            # the level's size at the training crop, times 1.5 (as upstream's conversion pass)
            kernel = ((th // 2 ** level) * base[0] // th, (tw // 2 ** level) * base[1] // tw)
            for block in blocks:
                block.sca[0] = LocalAverage(kernel)

        for level, blocks in enumerate(self.encoders):
            localise(blocks, level)
        localise(self.middle_blks, len(self.encoders))
        for i, blocks in enumerate(self.decoders):
            localise(blocks, len(self.decoders) - 1 - i)

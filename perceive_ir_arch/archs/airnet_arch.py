"""AirNet (Li et al., CVPR 2022) as XLearning-SCU/2022-CVPR-AirNet publishes it (``net/``; its
``All.pth`` is a plain state dict of ``AirNet``), with the same parameter names, so the
file loads strictly.

Two parts: ``E``, the contrastive degradation encoder (a MoCo pair of ResNet encoders and
its queue; at inference only the query encoder's first residual block runs, and its 64-channel
map ``inter`` is the degradation representation), and ``R``, the restorer: a 3x3 head,
5 groups of 5 degradation-guided blocks and a 3x3 tail.  Each block applies two DGMs, each
the sum of a modulated deformable 3x3 convolution whose offsets and masks come from
[features, inter] (DCNv2, here ``torchvision.ops.deform_conv2d``, the operation of mmcv's
``modulated_deform_conv2d`` upstream calls) and an SFT layer (x * gamma(inter) + beta(inter)),
added to its input.  The key encoder, its MLP heads and the queue only train; they are kept
so the file loads strictly (the queue's length is the training batch times 256: 1,280 in
the published 3-task file, ``queue_size``).  Fully convolutional at full resolution: any
image size, no padding.
"""
from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import deform_conv2d

from ..registry import register_arch

__all__ = ['AirNet']


def _conv(cin: int, cout: int, kernel: int = 3, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=bias)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.LeakyReLU(0.1, True), nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.leaky_relu(self.backbone(x) + self.shortcut(x), 0.1)


class ResEncoder(nn.Module):
    """One encoder of the MoCo pair; ``degradation_map`` is what the restorer reads."""

    def __init__(self, dim: int = 256) -> None:
        super().__init__()
        self.E_pre = ResBlock(3, 64)  # noqa: N815  (upstream's names)
        self.E = nn.Sequential(ResBlock(64, 128, 2), ResBlock(128, dim, 2), nn.AdaptiveAvgPool2d(1))  # noqa: N815
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.LeakyReLU(0.1, True), nn.Linear(dim, dim))

    def degradation_map(self, x: torch.Tensor) -> torch.Tensor:
        return self.E_pre(x)


class MoCo(nn.Module):
    def __init__(self, dim: int, queue_size: int) -> None:
        super().__init__()
        self.encoder_q = ResEncoder(dim)
        self.encoder_k = ResEncoder(dim)
        self.register_buffer('queue', nn.functional.normalize(torch.randn(dim, queue_size), dim=0))
        self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))


class DegradationEncoder(nn.Module):
    """Upstream's ``CBDE``: the MoCo pair under ``E``."""

    def __init__(self, dim: int, queue_size: int) -> None:
        super().__init__()
        self.E = MoCo(dim, queue_size)  # noqa: N815

    def degradation_map(self, x: torch.Tensor) -> torch.Tensor:
        return self.E.encoder_q.degradation_map(x)


class ModulatedDeformConv(nn.Module):
    """Upstream's ``DCN_layer``: offsets and masks from [x, inter] by a 3x3 convolution."""

    def __init__(self, channels: int, kernel: int = 3) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(channels, channels, kernel, kernel))
        nn.init.uniform_(self.weight, -(channels * kernel * kernel) ** -0.5, (channels * kernel * kernel) ** -0.5)
        self.register_parameter('bias', None)
        self.conv_offset_mask = nn.Conv2d(channels * 2, 3 * kernel * kernel, kernel, padding=kernel // 2)
        nn.init.zeros_(self.conv_offset_mask.weight)  # upstream starts from a plain convolution
        nn.init.zeros_(self.conv_offset_mask.bias)
        self.padding = kernel // 2

    def forward(self, x: torch.Tensor, inter: torch.Tensor) -> torch.Tensor:
        o1, o2, mask = self.conv_offset_mask(torch.cat([x, inter], dim=1)).chunk(3, dim=1)
        return deform_conv2d(x, torch.cat([o1, o2], dim=1), self.weight, self.bias,
                             padding=self.padding, mask=torch.sigmoid(mask))


class SFT(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_gamma = nn.Sequential(nn.Conv2d(channels, channels, 1, bias=False), nn.LeakyReLU(0.1, True),
                                        nn.Conv2d(channels, channels, 1, bias=False))
        self.conv_beta = nn.Sequential(nn.Conv2d(channels, channels, 1, bias=False), nn.LeakyReLU(0.1, True),
                                       nn.Conv2d(channels, channels, 1, bias=False))

    def forward(self, x: torch.Tensor, inter: torch.Tensor) -> torch.Tensor:
        return x * self.conv_gamma(inter) + self.conv_beta(inter)


class DGM(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dcn = ModulatedDeformConv(channels)
        self.sft = SFT(channels)

    def forward(self, x: torch.Tensor, inter: torch.Tensor) -> torch.Tensor:
        return x + self.dcn(x, inter) + self.sft(x, inter)


class DGB(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dgm1, self.dgm2 = DGM(channels), DGM(channels)
        self.conv1, self.conv2 = _conv(channels, channels), _conv(channels, channels)

    def forward(self, x: torch.Tensor, inter: torch.Tensor) -> torch.Tensor:
        act = nn.functional.leaky_relu
        out = act(self.dgm1(x, inter), 0.1)
        out = act(self.conv1(out), 0.1)
        out = act(self.dgm2(out, inter), 0.1)
        return self.conv2(out) + x


class DGG(nn.Module):
    """Guided blocks then a 3x3 convolution, with a skip; the blocks under ``body.<i>``."""

    def __init__(self, channels: int, blocks: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*[DGB(channels) for _ in range(blocks)], _conv(channels, channels))

    def forward(self, x: torch.Tensor, inter: torch.Tensor) -> torch.Tensor:
        res = x
        for block in self.body[:-1]:
            res = block(res, inter)
        return self.body[-1](res) + x


class DGRN(nn.Module):
    def __init__(self, channels: int, groups: int, blocks: int) -> None:
        super().__init__()
        self.head = nn.Sequential(_conv(3, channels))
        self.body = nn.Sequential(*[DGG(channels, blocks) for _ in range(groups)], _conv(channels, channels))
        self.tail = nn.Sequential(_conv(channels, 3))

    def forward(self, x: torch.Tensor, inter: torch.Tensor) -> torch.Tensor:
        x = self.head(x)
        res = x
        for group in self.body[:-1]:
            res = group(res, inter)
        return self.tail(self.body[-1](res) + x)


@register_arch
class AirNet(nn.Module):
    """AirNet as published (upstream fixes 64 channels, 5 groups of 5 blocks and a 256-d
    encoder; ``groups`` / ``blocks`` let tests build it small).  ``queue_size``: the MoCo
    queue of the file to load (the training batch times 256; 1,280 in ``All.pth``)."""

    def __init__(self, groups: int = 5, blocks: int = 5, queue_size: int = 1280) -> None:
        super().__init__()
        self.R = DGRN(64, groups, blocks)  # noqa: N815  (upstream's names)
        self.E = DegradationEncoder(256, queue_size)  # noqa: N815

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.R(x, self.E.degradation_map(x))

"""FSNet (Cui et al., "Image Restoration via Frequency Selection", TPAMI 2023) as
c-yn/FSNet publishes its dehazing model (``Dehazing/OTS/models``; the OTS file holds
``{"model": state_dict}``), with the same parameter names.

A three-level U-Net of residual blocks that split features into frequency bands: a box
average over a window of 210/256 of the feature map (the low band) and the rest (the
high band), each rescaled by learned per-channel factors, globally and within each of
four quadrants; the last block of each stage also filters with learned, image-adaptive
3x3 and 5x5 low-pass kernels (``dynamic_filter``) and re-weights the two bands with a
selective-kernel attention (``SFconv``).  The forward returns three images (1/4, 1/2 and
full size); the Perceive-IR release reads the last (proxy option ``output: 2``).

Upstream's box average fixes its window from the first feature map each layer sees and
keeps it; here the window follows each input's size (the same numbers on the fixed
256-pixel crops the release renders).  Images are reflect-padded at the bottom / right
to a multiple of 8, as upstream's evaluation does, and cropped back.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import register_arch
from .layers import pad_to_multiple, window_average

__all__ = ['FSNet']



def box_average(x: torch.Tensor) -> torch.Tensor:
    """Mean over a window of 210/256 of each side, at every position where it fits, edge
    values repeated outward (upstream's ``AvgPool2d(base_size=210)``)."""
    h, w = x.shape[-2:]
    return window_average(x, h * 210 // 256, w * 210 // 256)


class BasicConv(nn.Module):
    """conv (or transposed conv) with 'same' padding, then GELU when ``relu``."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int = 1, relu: bool = True,
                 transpose: bool = False) -> None:
        super().__init__()
        if transpose:
            conv = nn.ConvTranspose2d(cin, cout, kernel_size, stride, padding=kernel_size // 2 - 1)
        else:
            conv = nn.Conv2d(cin, cout, kernel_size, stride, padding=kernel_size // 2)
        self.main = nn.Sequential(conv, nn.GELU()) if relu else nn.Sequential(conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class _GlobalBands(nn.Module):  # upstream's Gap
    def __init__(self, c: int) -> None:
        super().__init__()
        self.fscale_d = nn.Parameter(torch.zeros(c))
        self.fscale_h = nn.Parameter(torch.zeros(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = box_average(x)
        return low * self.fscale_d[:, None, None] + (x - low) * (self.fscale_h[:, None, None] + 1)


class _QuadrantBands(nn.Module):  # upstream's Patch_ap: the same within each of 2x2 quadrants
    def __init__(self, c: int, patch: int = 2) -> None:
        super().__init__()
        self.patch_size = patch
        self.h = nn.Parameter(torch.zeros(c * patch * patch))
        self.l = nn.Parameter(torch.zeros(c * patch * patch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, hh, ww = x.shape
        p = self.patch_size
        # quadrants (the image cut into p x p blocks of h/p x w/p) as channels (c, p1, p2)
        q = x.reshape(b, c, p, hh // p, p, ww // p).permute(0, 1, 2, 4, 3, 5).reshape(b, c * p * p, hh // p, ww // p)
        low = box_average(q)
        out = (q - low) * self.h[:, None, None] + low * self.l[:, None, None]
        return out.reshape(b, c, p, p, hh // p, ww // p).permute(0, 1, 2, 4, 3, 5).reshape(b, c, hh, ww)


class _SelectiveFusion(nn.Module):  # upstream's SFconv
    def __init__(self, features: int, branches: int = 2, r: int = 2, least: int = 32) -> None:
        super().__init__()
        d = max(features // r, least)
        self.fc = nn.Conv2d(features, d, 1)
        self.fcs = nn.ModuleList(nn.Conv2d(d, features, 1) for _ in range(branches))
        self.out = nn.Conv2d(features, features, 1)

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        z = self.fc(box_average(low + high))
        # one softmax over both branches' channels together, as upstream computes it
        weights = torch.cat([self.fcs[0](z), self.fcs[1](z)], dim=1).softmax(dim=1)
        high_w, low_w = weights.chunk(2, dim=1)
        return self.out(high * high_w + low * low_w)


class _DynamicFilter(nn.Module):  # upstream's dynamic_filter
    def __init__(self, c: int, kernel_size: int = 3, group: int = 8) -> None:
        super().__init__()
        self.kernel_size, self.group = kernel_size, group
        self.conv = nn.Conv2d(c, group * kernel_size ** 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(group * kernel_size ** 2)
        self.lamb_l = nn.Parameter(torch.zeros(c))  # in upstream's files, unused by its forward
        self.lamb_h = nn.Parameter(torch.zeros(c))
        self.modulate = _SelectiveFusion(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        k2 = self.kernel_size ** 2
        # per image and group, a softmax-normalised k x k low-pass kernel
        kernel = self.bn(self.conv(x.mean(dim=(2, 3), keepdim=True))).reshape(n, self.group, 1, k2, 1).softmax(dim=3)
        patches = F.unfold(F.pad(x, [self.kernel_size // 2] * 4, mode='reflect'), self.kernel_size)
        low = (patches.reshape(n, self.group, c // self.group, k2, h * w) * kernel).sum(dim=3).reshape(n, c, h, w)
        return self.modulate(low, x - low)


class _ResBlock(nn.Module):
    def __init__(self, c: int, filter: bool = False) -> None:  # noqa: A002  (upstream's name)
        super().__init__()
        self.conv1 = BasicConv(c, c, 3)
        self.conv2 = BasicConv(c, c, 3, relu=False)
        self.filter = filter
        self.dyna = _DynamicFilter(c // 2) if filter else nn.Identity()
        self.dyna_2 = _DynamicFilter(c // 2, kernel_size=5) if filter else nn.Identity()
        self.localap = _QuadrantBands(c // 2)
        self.global_ap = _GlobalBands(c // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(x)
        if self.filter:
            a, b = out.chunk(2, dim=1)
            out = torch.cat([self.dyna(a), self.dyna_2(b)], dim=1)
        far, near = out.chunk(2, dim=1)
        return self.conv2(torch.cat([self.global_ap(far), self.localap(near)], dim=1)) + x


def _res_blocks(c: int, n: int) -> list[nn.Module]:
    return [_ResBlock(c) for _ in range(n - 1)] + [_ResBlock(c, filter=True)]


class _Stage(nn.Module):  # EBlock / DBlock: residual blocks under ``layers``
    def __init__(self, c: int, n: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(*_res_blocks(c, n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class _UStage(nn.Module):  # EBlock1 / DBlock1: the blocks run partly at half resolution
    class _Inner(nn.Module):
        def __init__(self, c: int, n: int) -> None:
            super().__init__()
            self.layers = nn.ModuleList(_res_blocks(c, n))
            self.down = nn.Conv2d(c, c, 2, stride=2, groups=c)
            self.conv = nn.Conv2d(2 * c, c, 1)
            self.num_res = n

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            res = x
            n = self.num_res
            for i, layer in enumerate(self.layers):
                if i == n // 4:
                    skip, x = x, self.down(x)
                if i == n - n // 4:
                    x = F.interpolate(x, res.shape[2:], mode='bilinear', align_corners=False)
                    x = self.conv(torch.cat([x, skip], dim=1))
                x = layer(x)
            return x + res

    def __init__(self, c: int, n: int) -> None:
        super().__init__()
        self.layers = self._Inner(c, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class _SCM(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.main = nn.Sequential(BasicConv(3, c // 4, 3), BasicConv(c // 4, c // 2, 1), BasicConv(c // 2, c // 2, 3),
                                  BasicConv(c // 2, c, 1, relu=False), nn.InstanceNorm2d(c, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class _FAM(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.merge = BasicConv(2 * c, c, 3, relu=False)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.merge(torch.cat([a, b], dim=1))


@register_arch
class FSNet(nn.Module):
    """FSNet with upstream's option ``num_res`` (blocks per stage; the OTS model: 16) and
    ``base_channel`` (32 upstream, fixed there; smaller for tests).  Returns a list:
    [1/4 size, 1/2 size, full size]."""

    def __init__(self, num_res: int = 16, base_channel: int = 32) -> None:
        super().__init__()
        c = base_channel
        self.Encoder = nn.ModuleList([_UStage(c, num_res), _Stage(2 * c, num_res), _Stage(4 * c, num_res)])
        self.feat_extract = nn.ModuleList([
            BasicConv(3, c, 3), BasicConv(c, 2 * c, 3, stride=2), BasicConv(2 * c, 4 * c, 3, stride=2),
            BasicConv(4 * c, 2 * c, 4, stride=2, transpose=True), BasicConv(2 * c, c, 4, stride=2, transpose=True),
            BasicConv(c, 3, 3, relu=False)])
        self.Decoder = nn.ModuleList([_Stage(4 * c, num_res), _Stage(2 * c, num_res), _UStage(c, num_res)])
        self.Convs = nn.ModuleList([BasicConv(4 * c, 2 * c, 1), BasicConv(2 * c, c, 1)])
        self.ConvsOut = nn.ModuleList([BasicConv(4 * c, 3, 3, relu=False), BasicConv(2 * c, 3, 3, relu=False)])
        self.FAM1, self.SCM1 = _FAM(4 * c), _SCM(4 * c)
        self.FAM2, self.SCM2 = _FAM(2 * c), _SCM(2 * c)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x, h, w = pad_to_multiple(x, 8)
        x_2 = F.interpolate(x, scale_factor=0.5, mode='nearest')
        x_4 = F.interpolate(x_2, scale_factor=0.5, mode='nearest')
        z2, z4 = self.SCM2(x_2), self.SCM1(x_4)
        x_ = self.feat_extract[0](x)
        res1 = self.Encoder[0](x_)
        res2 = self.Encoder[1](self.FAM2(self.feat_extract[1](res1), z2))
        z = self.Decoder[0](self.Encoder[2](self.FAM1(self.feat_extract[2](res2), z4)))
        out4 = self.ConvsOut[0](z) + x_4
        z = self.Decoder[1](self.Convs[0](torch.cat([self.feat_extract[3](z), res2], dim=1)))
        out2 = self.ConvsOut[1](z) + x_2
        z = self.Decoder[2](self.Convs[1](torch.cat([self.feat_extract[4](z), res1], dim=1)))
        out = self.feat_extract[5](z) + x
        return [out4[..., :(h + 3) // 4, :(w + 3) // 4], out2[..., :(h + 1) // 2, :(w + 1) // 2], out[..., :h, :w]]

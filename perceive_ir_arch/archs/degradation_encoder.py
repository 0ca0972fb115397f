"""CFE: compact feature extraction, degraded image -> L2-normalised degradation vector z."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ['CompactFeatureExtractor', 'build_degradation_encoder']


class _PooledEncoder(nn.Module):
    """Convolutional ``features``, a global average, then ``head``: z of an image of any
    size, also computed tile by tile without the whole image on the device."""

    stride = 1  # the features' total stride
    centre_input = False

    def head(self, pooled: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        # images in [0, 1] are all positive: the pooled features of a random CFE then
        # mostly measure the mean colour every image shares; centred, what differs
        return self.features(2 * x - 1 if self.centre_input else x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self._features(x).mean(dim=(2, 3)))

    @torch.no_grad()
    def pooled_over_tiles(self, x: torch.Tensor, tile: int, device: torch.device) -> torch.Tensor:
        """z of the whole image ``x`` (any device), its features averaged tile by tile;
        tiles aligned to the stride pool exactly, apart from the zero padding at their
        borders."""
        step = max(self.stride, tile // self.stride * self.stride)
        total, count, feat = None, 0, None
        for y0 in range(0, x.shape[-2], step):
            for x0 in range(0, x.shape[-1], step):
                feat = self._features(x[..., y0:y0 + step, x0:x0 + step].to(device))
                s = feat.float().sum(dim=(2, 3))
                total = s if total is None else total + s
                count += feat.shape[-2] * feat.shape[-1]
        return self.head((total / count).to(feat.dtype))


class CompactFeatureExtractor(_PooledEncoder):
    """The release's CFE: four stride-2 conv3x3 + GELU, global average pool, linear.

    Widths are dim/4, dim/2, 3dim/4, dim (32, 64, 96, 128 for dim = 128).
    """

    stride = 16

    def __init__(self, dim: int = 128) -> None:
        super().__init__()
        widths = [3, dim // 4, dim // 2, 3 * dim // 4, dim]
        layers: list[nn.Module] = []
        for cin, cout in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GELU()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(dim, dim)

    def head(self, pooled: torch.Tensor) -> torch.Tensor:
        """Spatially averaged features (B x dim) -> z; tiled inference averages over tiles."""
        return F.normalize(self.fc(pooled), dim=1)


class _ResBlock(nn.Module):
    """conv3x3 - LeakyReLU - conv3x3 with a 1x1 (strided) skip."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.LeakyReLU(0.1, inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Conv2d(cin, cout, 1, stride=stride)
        self.act = nn.LeakyReLU(0.1, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.skip(x))


class AirNetLikeEncoder(_PooledEncoder):
    """The paper figure's CFE: AirNet-style residual encoder, pool, linear-LReLU-linear.

    Widths dim/2, dim, 2dim (64, 128, 256 for dim = 128), as AirNet's CBDE.
    """

    stride = 4

    def __init__(self, dim: int = 128) -> None:
        super().__init__()
        w = [dim // 2, dim, 2 * dim]
        self.features = nn.Sequential(_ResBlock(3, w[0], 1), _ResBlock(w[0], w[1], 2),
                                      _ResBlock(w[1], w[2], 2))
        self.mlp = nn.Sequential(nn.Linear(w[2], w[2]), nn.LeakyReLU(0.1, inplace=True),
                                 nn.Linear(w[2], dim))

    def head(self, pooled: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.mlp(pooled), dim=1)


_VARIANTS = {'release': CompactFeatureExtractor, 'airnet': AirNetLikeEncoder}


def build_degradation_encoder(variant: str, dim: int, centre_input: bool = False) -> nn.Module:
    """The CFE ``variant`` with output size ``dim``; ``centre_input``: it reads 2x - 1
    instead of the image in [0, 1] (not in the release; see docs/deviations.md)."""
    if variant not in _VARIANTS:
        raise ValueError(f"cfe_variant must be one of {sorted(_VARIANTS)}, got {variant!r}")
    encoder = _VARIANTS[variant](dim)
    encoder.centre_input = bool(centre_input)
    return encoder

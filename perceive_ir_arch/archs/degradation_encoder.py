"""CFE: compact feature extraction, degraded image -> L2-normalised degradation vector z."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ['CompactFeatureExtractor', 'build_degradation_encoder']


class CompactFeatureExtractor(nn.Module):
    """The release's CFE: four stride-2 conv3x3 + GELU, global average pool, linear.

    Widths are dim/4, dim/2, 3dim/4, dim (32, 64, 96, 128 for dim = 128).
    """

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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


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


class AirNetLikeEncoder(nn.Module):
    """The paper figure's CFE: AirNet-style residual encoder, pool, linear-LReLU-linear.

    Widths dim/2, dim, 2dim (64, 128, 256 for dim = 128), as AirNet's CBDE.
    """

    def __init__(self, dim: int = 128) -> None:
        super().__init__()
        w = [dim // 2, dim, 2 * dim]
        self.features = nn.Sequential(_ResBlock(3, w[0], 1), _ResBlock(w[0], w[1], 2),
                                      _ResBlock(w[1], w[2], 2))
        self.mlp = nn.Sequential(nn.Linear(w[2], w[2]), nn.LeakyReLU(0.1, inplace=True),
                                 nn.Linear(w[2], dim))

    def head(self, pooled: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.mlp(pooled), dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


_VARIANTS = {'release': CompactFeatureExtractor, 'airnet': AirNetLikeEncoder}


def build_degradation_encoder(variant: str, dim: int) -> nn.Module:
    if variant not in _VARIANTS:
        raise ValueError(f"cfe_variant must be one of {sorted(_VARIANTS)}, got {variant!r}")
    return _VARIANTS[variant](dim)

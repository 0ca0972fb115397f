"""The authors' release networks as their files name them, written here for the tests.

``ReleasePerceiveIR`` (stage 2) and ``ReleaseMedium`` (stage 1a) have the module tree of
House-yuyu/Perceive-IR's ``src/perceiveIR/model.py`` and ``stage1.py`` (c7f79d47), so their
``state_dict()`` keys are the release's, and compute what those modules compute, the
direct way (layer norm over channels of a (B, HW, C) view, attention with q and k
normalised, heads by reshaping).  They share no code with the plugin: a file written from
them, loaded by the plugin, must restore the same image.  ``guidance`` is the release's
list of four DINOv2 class tokens, which the caller computes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _LN(nn.Module):  # release LayerNorm2d: the norm lives in .body
    class Body(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(c))
            self.bias = nn.Parameter(torch.zeros(c))

    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = self.Body(c)

    def forward(self, x):
        b, c, h, w = x.shape
        t = x.flatten(2).transpose(1, 2)
        t = (t - t.mean(-1, keepdim=True)) / torch.sqrt(t.var(-1, keepdim=True, unbiased=False) + 1e-5)
        t = t * self.body.weight + self.body.bias
        return t.transpose(1, 2).reshape(b, c, h, w)


def _attend(q, k, v, heads, temperature, shape):
    b, c, h, w = shape
    q, k, v = (t.reshape(b, heads, c // heads, h * w) for t in (q, k, v))
    q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
    attn = (q @ k.transpose(-2, -1) * temperature).softmax(-1)
    return (attn @ v).reshape(b, c, h, w)


class _MDTA(nn.Module):
    def __init__(self, c: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.qkv_dw = nn.Conv2d(3 * c, 3 * c, 3, padding=1, groups=3 * c)
        self.project = nn.Conv2d(c, c, 1)

    def forward(self, x):
        q, k, v = self.qkv_dw(self.qkv(x)).chunk(3, 1)
        return self.project(_attend(q, k, v, self.heads, self.temperature, x.shape))


class _FFN(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        hidden = int(c * 2.66)
        self.project_in = nn.Conv2d(c, 2 * hidden, 1)
        self.depthwise = nn.Conv2d(2 * hidden, 2 * hidden, 3, padding=1, groups=2 * hidden)
        self.project_out = nn.Conv2d(hidden, c, 1)

    def forward(self, x):
        a, b = self.depthwise(self.project_in(x)).chunk(2, 1)
        return self.project_out(F.gelu(a) * b)


class _TB(nn.Module):
    def __init__(self, c: int, heads: int) -> None:
        super().__init__()
        self.norm1, self.attention, self.norm2, self.ffn = _LN(c), _MDTA(c, heads), _LN(c), _FFN(c)

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class _PGCA(nn.Module):
    def __init__(self, c: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.q = nn.Sequential(nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 3, padding=1, groups=c))
        self.kv = nn.Sequential(nn.Conv2d(c, 2 * c, 1), nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c))
        self.project = nn.Conv2d(c, c, 1)

    def forward(self, x, g):
        k, v = self.kv(x).chunk(2, 1)
        return self.project(_attend(self.q(g), k, v, self.heads, self.temperature, x.shape))


class _ETB(nn.Module):
    def __init__(self, c: int, heads: int) -> None:
        super().__init__()
        self.norm1, self.guidance_norm, self.attention = _LN(c), _LN(c), _PGCA(c, heads)
        self.mdta_norm, self.mdta, self.norm2, self.ffn = _LN(c), _MDTA(c, heads), _LN(c), _FFN(c)

    def forward(self, x, g):
        cross = self.attention(self.norm1(x), self.guidance_norm(g))
        x = g + self.mdta(self.mdta_norm(cross))
        return x + self.ffn(self.norm2(x))


class _Stage(nn.Module):  # release EnhancedStage
    def __init__(self, c: int, heads: int, depth: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(_ETB(c, heads) for _ in range(depth))

    def forward(self, x, g):
        for blk in self.blocks:
            x = blk(x, g)
        return x


class _Down(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c // 2, 3, padding=1), nn.PixelUnshuffle(2))

    def forward(self, x):
        return self.body(x)


class _Up(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, 2 * c, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, x):
        return self.body(x)


class _CFE(nn.Module):
    def __init__(self, out: int = 128) -> None:
        super().__init__()
        layers, cin = [], 3
        for cout in (32, 64, 96, 128):
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GELU()]
            cin = cout
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1))
        self.projection = nn.Linear(128, out)

    def forward(self, x):
        return F.normalize(self.projection(self.body(x).flatten(1)), dim=-1)


class _PGM(nn.Module):
    def __init__(self, c: int, sem: int, deg: int) -> None:
        super().__init__()
        self.affine = nn.Sequential(nn.Linear(sem + deg, 2 * c), nn.GELU(), nn.Linear(2 * c, 2 * c))

    def forward(self, x, s, z):
        gamma, beta = self.affine(torch.cat((s, z), -1)).chunk(2, -1)
        return x * (1 + gamma[..., None, None]) + beta[..., None, None]


class _UNet(nn.Module):
    def __init__(self, dim, blocks, heads, refinement) -> None:
        super().__init__()
        c = [dim, 2 * dim, 4 * dim, 8 * dim]
        self.embed = nn.Conv2d(3, dim, 3, padding=1)
        for n in (1, 2, 3):
            setattr(self, f'encoder{n}', nn.Sequential(*(_TB(c[n - 1], heads[n - 1]) for _ in range(blocks[n - 1]))))
            setattr(self, f'down{n}', _Down(c[n - 1]))
        self.c = c

    def _tail(self, blocks, heads, refinement, stage):
        c = self.c
        for n in (3, 2, 1):
            setattr(self, f'up{n}', _Up(c[n]))
            setattr(self, f'reduce{n}', nn.Conv2d(2 * c[n - 1], c[n - 1], 1))
            setattr(self, f'decoder{n}', stage(c[n - 1], heads[n - 1], blocks[n - 1]))
        self.refinement = nn.Sequential(*(_TB(c[0], heads[0]) for _ in range(refinement)))
        self.output = nn.Conv2d(c[0], 3, 3, padding=1)

    def _encode(self, x):
        e1 = self.encoder1(self.embed(x))
        e2 = self.encoder2(self.down1(e1))
        e3 = self.encoder3(self.down2(e2))
        return e1, e2, e3


class ReleasePerceiveIR(_UNet):
    def __init__(self, dim=48, blocks=(4, 6, 6, 8), heads=(1, 2, 4, 8), refinement=4, semantic_dim=768):
        super().__init__(dim, blocks, heads, refinement)
        self.cfe = _CFE(128)
        self.pgm = nn.ModuleList(_PGM(ch, semantic_dim, 128) for ch in self.c)
        self.latent = _Stage(self.c[3], heads[3], blocks[3])
        self._tail(blocks, heads, refinement, _Stage)

    def forward(self, x, semantics):
        z = self.cfe(x)
        e1, e2, e3 = self._encode(x)
        lat_in = self.down3(e3)
        d = self.latent(lat_in, self.pgm[3](lat_in, semantics[3], z))
        for n, skip in ((3, e3), (2, e2), (1, e1)):
            d = getattr(self, f'reduce{n}')(torch.cat((getattr(self, f'up{n}')(d), skip), 1))
            d = getattr(self, f'decoder{n}')(d, self.pgm[n - 1](d, semantics[n - 1], z))
        return self.output(self.refinement(d)) + x


def _plain(c, heads, depth):
    return nn.Sequential(*(_TB(c, heads) for _ in range(depth)))


class ReleaseMedium(_UNet):
    def __init__(self, dim=48, blocks=(4, 6, 6, 8), heads=(1, 2, 4, 8), refinement=4):
        super().__init__(dim, blocks, heads, refinement)
        self.latent = _plain(self.c[3], heads[3], blocks[3])
        self._tail(blocks, heads, refinement, _plain)

    def forward(self, x):
        e1, e2, e3 = self._encode(x)
        d = self.latent(self.down3(e3))
        for n, skip in ((3, e3), (2, e2), (1, e1)):
            d = getattr(self, f'decoder{n}')(getattr(self, f'reduce{n}')(
                torch.cat((getattr(self, f'up{n}')(d), skip), 1)))
        return self.output(self.refinement(d)) + x

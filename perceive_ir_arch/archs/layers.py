"""Building blocks of the Restormer-style U-Net that Perceive-IR uses.

Everything here works on NCHW tensors.  Attention is "transposed": it mixes the C/h
channels of a head using all pixels, so its cost is linear in the number of pixels.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    'ChannelLayerNorm', 'ChannelAttention', 'GatedDconvFFN', 'TransformerBlock',
    'PromptGuidedCrossAttention', 'EnhancedTransformerBlock', 'Downsample', 'Upsample',
    'gdfn_hidden', 'pad_to_multiple', 'window_average',
]


def gdfn_hidden(dim: int, expansion: float) -> int:
    """Hidden width of one GDFN branch (the release truncates, as Restormer does)."""
    return int(dim * expansion)


class ChannelLayerNorm(nn.Module):
    """Layer norm over channels at every pixel, with weight and bias."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # F.layer_norm wants the normalised axis last: on a channels-last tensor the
        # permuted view is already contiguous, so this is one fused pass with no copies
        y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2)


def _conv1x1(cin: int, cout: int, bias: bool) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=1, bias=bias)


def _dwconv3x3(dim: int, bias: bool) -> nn.Conv2d:
    return nn.Conv2d(dim, dim, kernel_size=3, padding=1, groups=dim, bias=bias)


def _transposed_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int,
                          temperature: torch.Tensor) -> torch.Tensor:
    """softmax(norm(q) norm(k)^T * t) v over channels; q, k, v: B x C x H x W.

    Normalising q and k along the pixels is the same as dividing their d x d Gram matrix
    by the outer product of their norms, so normalised full-size copies of q and k are
    never written.  Works on channels-last and NCHW tensors alike (and on channel slices
    of either) without copying them; the result keeps the layout.
    """
    b, c, h, w = q.shape
    d = c // heads
    # B x heads x d x HW views: flatten(2) merges H and W in both layouts
    q, k, v = (t.flatten(2).unflatten(1, (heads, d)) for t in (q, k, v))
    gram = q @ k.transpose(-2, -1)
    # (x * x).sum is about twice as fast as linalg.vector_norm along the strided pixel axis
    q_norm = (q * q).sum(-1).sqrt().clamp_min(1e-12)  # F.normalize's eps
    k_norm = (k * k).sum(-1).sqrt().clamp_min(1e-12)
    attn = torch.softmax(gram / (q_norm[..., :, None] * k_norm[..., None, :]) * temperature, dim=-1)
    if v.stride(-2) == 1:  # channels-last: produce B x HW x C directly
        out = (v.transpose(-2, -1) @ attn.transpose(-2, -1)).transpose(1, 2)
        return out.reshape(b, h, w, c).permute(0, 3, 1, 2)
    return (attn @ v).reshape(b, c, h, w)


class _HeadedAttention(nn.Module):
    """What MDTA and PGCA share: heads, per-head temperature, output projection."""

    def __init__(self, dim: int, heads: int, bias: bool) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f'channels ({dim}) must be divisible by heads ({heads})')
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.project_out = _conv1x1(dim, dim, bias)

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return self.project_out(_transposed_attention(q, k, v, self.heads, self.temperature))


class ChannelAttention(_HeadedAttention):
    """MDTA: multi-Dconv head transposed attention."""

    def __init__(self, dim: int, heads: int, bias: bool = True) -> None:
        super().__init__(dim, heads, bias)
        self.qkv = _conv1x1(dim, dim * 3, bias)
        self.qkv_dwconv = _dwconv3x3(dim * 3, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attend(*self.qkv_dwconv(self.qkv(x)).chunk(3, dim=1))


class GatedDconvFFN(nn.Module):
    """GDFN: gelu(a) * b after a 1x1 expansion and a depthwise 3x3."""

    def __init__(self, dim: int, expansion: float = 2.66, bias: bool = True) -> None:
        super().__init__()
        hidden = gdfn_hidden(dim, expansion)
        self.project_in = _conv1x1(dim, hidden * 2, bias)
        self.dwconv = _dwconv3x3(hidden * 2, bias)
        self.project_out = _conv1x1(hidden, dim, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(F.gelu(a) * b)


class TransformerBlock(nn.Module):
    """TB: x += MDTA(LN(x)); x += GDFN(LN(x))."""

    def __init__(self, dim: int, heads: int, expansion: float = 2.66, bias: bool = True) -> None:
        super().__init__()
        self.norm1 = ChannelLayerNorm(dim)
        self.attn = ChannelAttention(dim, heads, bias)
        self.norm2 = ChannelLayerNorm(dim)
        self.ffn = GatedDconvFFN(dim, expansion, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class PromptGuidedCrossAttention(_HeadedAttention):
    """PGCA: channel attention whose query comes from the guidance map g."""

    def __init__(self, dim: int, heads: int, bias: bool = True) -> None:
        super().__init__(dim, heads, bias)
        self.q = _conv1x1(dim, dim, bias)
        self.q_dwconv = _dwconv3x3(dim, bias)
        self.kv = _conv1x1(dim, dim * 2, bias)
        self.kv_dwconv = _dwconv3x3(dim * 2, bias)

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        k, v = self.kv_dwconv(self.kv(x)).chunk(2, dim=1)
        return self.attend(self.q_dwconv(self.q(g)), k, v)


class EnhancedTransformerBlock(nn.Module):
    """ETB: a transformer block steered by the level's guided features g.

    release (default): c = PGCA(LN(x), LN(g)); x' = g + MDTA(LN(c)); x' + GDFN(LN(x'))
    figure:            c = PGCA(LN(x), LN(g)); x' = g + c;            x' + GDFN(LN(x'))
    """

    def __init__(self, dim: int, heads: int, expansion: float = 2.66, bias: bool = True,
                 variant: str = 'release') -> None:
        super().__init__()
        if variant not in ('release', 'figure'):
            raise ValueError(f"etb_variant must be 'release' or 'figure', got {variant!r}")
        self.norm_x = ChannelLayerNorm(dim)
        self.norm_g = ChannelLayerNorm(dim)
        self.cross_attn = PromptGuidedCrossAttention(dim, heads, bias)
        if variant == 'release':
            self.norm_c = ChannelLayerNorm(dim)
            self.attn = ChannelAttention(dim, heads, bias)
        else:
            self.norm_c = self.attn = None
        self.norm2 = ChannelLayerNorm(dim)
        self.ffn = GatedDconvFFN(dim, expansion, bias)

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        c = self.cross_attn(self.norm_x(x), self.norm_g(g))
        x = g + (self.attn(self.norm_c(c)) if self.attn is not None else c)
        return x + self.ffn(self.norm2(x))


class Downsample(nn.Sequential):
    """conv3x3 C -> C/2, pixel-unshuffle(2): C x H x W -> 2C x H/2 x W/2."""

    def __init__(self, dim: int, bias: bool = True) -> None:
        super().__init__(nn.Conv2d(dim, dim // 2, 3, padding=1, bias=bias), nn.PixelUnshuffle(2))


class Upsample(nn.Sequential):
    """conv3x3 C -> 2C, pixel-shuffle(2): C x H x W -> C/2 x 2H x 2W."""

    def __init__(self, dim: int, bias: bool = True) -> None:
        super().__init__(nn.Conv2d(dim, dim * 2, 3, padding=1, bias=bias), nn.PixelShuffle(2))


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, int, int]:
    """Pad H and W at the bottom/right to a multiple; reflect where the image allows it."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    # padding by zero pixels too (a copy of the 3-channel input, negligible): a branch on
    # the size would be frozen into exported graphs (torch.export, ONNX)
    mode = 'reflect' if ph < h and pw < w else 'replicate'
    return F.pad(x, (0, pw, 0, ph), mode=mode), h, w


def window_average(x: torch.Tensor, kh: int, kw: int) -> torch.Tensor:
    """The mean over every kh x kw window that fits, from an integral image (the cost does
    not grow with the window), its edge values repeated outward to the input's size (the
    local statistics of TLSC, as NAFNet's and FSNet's publishers compute them)."""
    h, w = x.shape[-2:]
    kh, kw = max(min(h, kh), 1), max(min(w, kw), 1)
    s = F.pad(x.cumsum(-1).cumsum(-2), (1, 0, 1, 0))
    out = (s[..., kh:, kw:] - s[..., :-kh, kw:] - s[..., kh:, :-kw] + s[..., :-kh, :-kw]) / (kh * kw)
    oh, ow = out.shape[-2:]
    return F.pad(out, ((w - ow) // 2, (w - ow + 1) // 2, (h - oh) // 2, (h - oh + 1) // 2), mode='replicate')

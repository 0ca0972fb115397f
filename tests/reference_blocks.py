"""A plain, obviously-correct implementation of PerceiveIR's blocks, for comparison.

Written the way the method describes the blocks, one step per line, NCHW throughout:
layer norm as mean and variance over channels of a (B, HW, C) copy, attention with q and k
normalised explicitly and heads split by reshaping.  It is slow on purpose and shares no
code with ``perceive_ir_arch.archs.layers``: the fast blocks must give the same numbers
(tests/test_fast_blocks.py) and beat it on time (benchmarks/network.py --models reference).

``reference_network(net)`` returns a copy of a PerceiveIR whose blocks are these, with the
same weights, running NCHW: the same function, computed the slow way.
"""
from __future__ import annotations

import copy as copy_module

import torch
import torch.nn.functional as F
from torch import nn

from perceive_ir_arch.archs.layers import EnhancedTransformerBlock, TransformerBlock


class RefLayerNorm(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        t = x.permute(0, 2, 3, 1).reshape(b, h * w, c)
        mean = t.mean(-1, keepdim=True)
        var = t.var(-1, keepdim=True, unbiased=False)
        t = (t - mean) / torch.sqrt(var + 1e-5) * self.weight + self.bias
        return t.reshape(b, h, w, c).permute(0, 3, 1, 2).contiguous()


def _attention(q, k, v, heads, temperature):
    b, c, h, w = q.shape
    q = q.reshape(b, heads, c // heads, h * w)
    k = k.reshape(b, heads, c // heads, h * w)
    v = v.reshape(b, heads, c // heads, h * w)
    q = F.normalize(q, dim=-1)
    k = F.normalize(k, dim=-1)
    attn = (q @ k.transpose(-2, -1)) * temperature
    attn = attn.softmax(dim=-1)
    return (attn @ v).reshape(b, c, h, w)


class RefMDTA(nn.Module):
    def __init__(self, dim: int, heads: int, bias: bool) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(dim * 3, dim * 3, 3, padding=1, groups=dim * 3, bias=bias)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=bias)

    def forward(self, x):
        qkv = self.qkv_dwconv(self.qkv(x))
        q, k, v = qkv.chunk(3, dim=1)
        return self.project_out(_attention(q, k, v, self.heads, self.temperature))


class RefPGCA(nn.Module):
    def __init__(self, dim: int, heads: int, bias: bool) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.q = nn.Conv2d(dim, dim, 1, bias=bias)
        self.q_dwconv = nn.Conv2d(dim, dim, 3, padding=1, groups=dim, bias=bias)
        self.kv = nn.Conv2d(dim, dim * 2, 1, bias=bias)
        self.kv_dwconv = nn.Conv2d(dim * 2, dim * 2, 3, padding=1, groups=dim * 2, bias=bias)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=bias)

    def forward(self, x, g):
        q = self.q_dwconv(self.q(g))
        k, v = self.kv_dwconv(self.kv(x)).chunk(2, dim=1)
        return self.project_out(_attention(q, k, v, self.heads, self.temperature))


class RefGDFN(nn.Module):
    def __init__(self, dim: int, hidden: int, bias: bool) -> None:
        super().__init__()
        self.project_in = nn.Conv2d(dim, hidden * 2, 1, bias=bias)
        self.dwconv = nn.Conv2d(hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2, bias=bias)
        self.project_out = nn.Conv2d(hidden, dim, 1, bias=bias)

    def forward(self, x):
        x1, x2 = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(F.gelu(x1) * x2)


class RefTB(nn.Module):
    def __init__(self, dim, heads, hidden, bias):
        super().__init__()
        self.norm1 = RefLayerNorm(dim)
        self.attn = RefMDTA(dim, heads, bias)
        self.norm2 = RefLayerNorm(dim)
        self.ffn = RefGDFN(dim, hidden, bias)

    def forward(self, x):
        x = x.contiguous()
        x = x + self.attn(self.norm1(x))
        x = x + self.ffn(self.norm2(x))
        return x


class RefETB(nn.Module):
    def __init__(self, dim, heads, hidden, bias, extra_mdta):
        super().__init__()
        self.norm_x = RefLayerNorm(dim)
        self.norm_g = RefLayerNorm(dim)
        self.cross_attn = RefPGCA(dim, heads, bias)
        if extra_mdta:
            self.norm_c = RefLayerNorm(dim)
            self.attn = RefMDTA(dim, heads, bias)
        else:
            self.norm_c = self.attn = None
        self.norm2 = RefLayerNorm(dim)
        self.ffn = RefGDFN(dim, hidden, bias)

    def forward(self, x, g):
        x, g = x.contiguous(), g.contiguous()
        c = self.cross_attn(self.norm_x(x), self.norm_g(g))
        if self.attn is not None:
            c = self.attn(self.norm_c(c))
        x = g + c
        x = x + self.ffn(self.norm2(x))
        return x


def _reference_block(block: nn.Module) -> nn.Module:
    ffn = block.ffn
    dim, hidden = ffn.project_in.in_channels, ffn.project_out.in_channels
    bias = ffn.project_in.bias is not None
    if isinstance(block, TransformerBlock):
        ref = RefTB(dim, block.attn.heads, hidden, bias)
    else:
        ref = RefETB(dim, block.cross_attn.heads, hidden, bias, block.attn is not None)
    ref.load_state_dict(block.state_dict())
    return ref


def reference_network(net: nn.Module, copy: bool = True) -> nn.Module:
    """``net`` (a copy unless ``copy=False``) with every TB / ETB replaced by the reference
    blocks, run NCHW."""
    ref = copy_module.deepcopy(net) if copy else net
    for parent in list(ref.modules()):
        for name, child in parent.named_children():
            if isinstance(child, (TransformerBlock, EnhancedTransformerBlock)):
                parent._modules[name] = _reference_block(child)
    ref.channels_last = False
    return ref

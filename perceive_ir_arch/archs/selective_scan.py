"""Mamba's selective scan in plain PyTorch (no mamba_ssm, no CUDA kernel): any device.

The recurrence, per batch b, channel d and state n, over positions t:

    x_t = exp(delta_t * A[d, n]) * x_{t-1} + delta_t * B_t[g(d), n] * u_t,   x_0 = 0
    y_t = sum_n C_t[g(d), n] * x_t + D[d] * u_t

with delta = softplus(delta + delta_bias) when asked, and channel d reading the B / C of
its group g(d) = d // (dim / G).  Computed in chunks of about sqrt(L) positions: a scan
inside every chunk at once (one step per position of a chunk), the states carried from
chunk to chunk (one step per chunk), then each position's share of the carried state:
O(L) work in about 3 sqrt(L) vectorised steps (768 for a 256 x 256 image) instead of L,
without ever holding the state of every position, and without exponentials that can
overflow (every factor is a decay, exp of a negative number).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ['selective_scan', 'selective_scan_reference']


def selective_scan(u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor,  # noqa: N803
                   C: torch.Tensor, D: torch.Tensor | None = None, delta_bias: torch.Tensor | None = None,  # noqa: N803
                   delta_softplus: bool = False, chunk: int | None = None) -> torch.Tensor:
    """``u``, ``delta``: batch x dim x L; ``A``: dim x N (negative); ``B``, ``C``:
    batch x G x N x L; ``D``, ``delta_bias``: dim.  Returns y, batch x dim x L, in fp32
    (as mamba_ssm's kernel computes it)."""
    b, dim, length = u.shape
    groups, n = B.shape[1], A.shape[1]
    if dim % groups:
        raise ValueError(f'selective_scan: {dim} channels do not split into {groups} groups of B and C')
    h = dim // groups
    u, delta, A, B, C = u.float(), delta.float(), A.float(), B.float(), C.float()  # noqa: N806
    if delta_bias is not None:
        delta = delta + delta_bias.float()[:, None]
    if delta_softplus:
        delta = F.softplus(delta)
    t_len = chunk or max(16, math.isqrt(max(length, 1)))
    pad = (-length) % t_len
    if pad:  # delta 0 past the end: the state passes unchanged and receives nothing
        u, delta = F.pad(u, (0, pad)), F.pad(delta, (0, pad))
        B, C = F.pad(B, (0, pad)), F.pad(C, (0, pad))  # noqa: N806
    chunks = (length + pad) // t_len

    # channels as (group, channel in group), positions as (chunk, position in chunk); the
    # position in a chunk leads, so that each step reads contiguous memory
    dt = delta.view(b, groups, h, chunks, t_len).permute(4, 0, 1, 2, 3).contiguous()  # T b G h chunks
    du = dt * u.view(b, groups, h, chunks, t_len).permute(4, 0, 1, 2, 3)
    a_rate = A.view(groups, h, 1, n)
    b_t = B.view(b, groups, n, chunks, t_len).permute(4, 0, 1, 3, 2).unsqueeze(3).contiguous()  # T b G 1 chunks N
    c_t = C.view(b, groups, n, chunks, t_len).permute(4, 0, 1, 3, 2).unsqueeze(3).contiguous()

    # in place where no gradient is asked for (proxies, inference), out of place otherwise
    grad = torch.is_grad_enabled() and any(t.requires_grad for t in (u, delta, A, B, C))

    # 1. every chunk scanned from a zero state, all chunks at once
    x = u.new_zeros(b, groups, h, chunks, n)
    ys = []
    for t in range(t_len):
        decay = torch.exp(dt[t, ..., None] * a_rate)
        if grad:
            x = x * decay + du[t, ..., None] * b_t[t]
        else:
            x.mul_(decay).addcmul_(du[t, ..., None], b_t[t])
        ys.append((x * c_t[t]).sum(-1))

    # 2. the state entering each chunk: the previous chunks' ends, decayed through
    if chunks > 1:
        elapsed = dt.cumsum(0)
        through = torch.exp(elapsed[-1, ..., None] * a_rate)  # decay over a whole chunk
        states = [x.new_zeros(b, groups, h, n)]
        for c in range(chunks - 1):
            states.append(through[..., c, :] * states[-1] + x[..., c, :])
        carry = torch.stack(states, dim=3)  # b G h chunks N
        # 3. what the carried state adds at each position: decayed up to it, read by C
        for t in range(t_len):
            ys[t] = ys[t] + (torch.exp(elapsed[t, ..., None] * a_rate) * carry * c_t[t]).sum(-1)

    y = torch.stack(ys, dim=-1)  # b G h chunks T
    y = y.reshape(b, dim, chunks * t_len)[..., :length]
    if D is not None:
        y = y + u[..., :length] * D.float()[:, None]
    return y


def selective_scan_reference(u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor,  # noqa: N803
                             C: torch.Tensor, D: torch.Tensor, delta_bias: torch.Tensor) -> torch.Tensor:  # noqa: N803
    """The recurrence as Mamba defines it, one position at a time (slow; the definition the
    chunked scan is tested and timed against): with delta = softplus(delta + bias),
    h_t = exp(delta_t A) h_{t-1} + delta_t u_t B_t, y_t = C_t . h_t + D u_t."""
    delta = F.softplus(delta + delta_bias[:, None])
    per_group = u.shape[1] // B.shape[1]
    b, c = B.repeat_interleave(per_group, dim=1), C.repeat_interleave(per_group, dim=1)
    h, ys = u.new_zeros(u.shape[0], u.shape[1], A.shape[1]), []
    for t in range(u.shape[-1]):
        h = torch.exp(delta[:, :, t, None] * A) * h + (delta[:, :, t] * u[:, :, t])[..., None] * b[:, :, :, t]
        ys.append((h * c[:, :, :, t]).sum(-1))
    return torch.stack(ys, -1) + u * D[:, None]

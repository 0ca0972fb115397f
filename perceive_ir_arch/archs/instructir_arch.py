"""InstructIR (Conde et al., ECCV 2024) as mv-lab/InstructIR publishes its image model
(``models/instructir.py``, ``im_instructir-7d.pt``: a plain state dict), with the same
parameter names.

A NAFNet whose every encoder and decoder level ends in an instruction condition block
(ICB): the features, scaled and shifted per channel, are gated by a sigmoid of a linear
map of the instruction's embedding, passed through a NAFBlock and added back.  The
network takes ``(image, embedding)``; the authors' Perceive-IR release feeds fixed
per-task embeddings (``task_embeddings.pt``), which L_dpl's proxy option ``task_inputs``
reads.  Padding as NAFNet's (zeros to a multiple of 2^levels, cropped back).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..registry import register_arch
from .nafnet_arch import NAFBlock, NAFNet

__all__ = ['InstructIR', 'InstructionConditionBlock']


class InstructionConditionBlock(nn.Module):
    """ICB: x + NAFBlock((x * gamma + beta) * sigmoid(fc(embedding)))."""

    def __init__(self, feature_dim: int, text_dim: int = 768) -> None:
        super().__init__()
        self.fc = nn.Linear(text_dim, feature_dim)
        self.block = NAFBlock(feature_dim)
        self.beta = nn.Parameter(torch.zeros(1, feature_dim, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, feature_dim, 1, 1))

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.fc(embedding))[..., None, None]
        return self.block((x * self.gamma + self.beta) * gate) + x


@register_arch
class InstructIR(NAFNet):
    """InstructIR with upstream's options; the published 7-degradation model is
    ``width=32, enc_blk_nums=[2, 2, 4, 8], middle_blk_num=4, dec_blk_nums=[2, 2, 2, 2],
    txtdim=256`` (as the Perceive-IR release builds it)."""

    def __init__(self, img_channel: int = 3, width: int = 16, middle_blk_num: int = 1,
                 enc_blk_nums: Sequence[int] = (), dec_blk_nums: Sequence[int] = (), txtdim: int = 768) -> None:
        super().__init__(img_channel, width, middle_blk_num, enc_blk_nums, dec_blk_nums)
        widths = [width * 2 ** i for i in range(len(enc_blk_nums))]
        self.enc_cond = nn.ModuleList(InstructionConditionBlock(c, txtdim) for c in widths)
        self.dec_cond = nn.ModuleList(InstructionConditionBlock(c, txtdim) for c in reversed(widths))

    def conditioned(self, x: torch.Tensor, side: str, level: int, *condition: torch.Tensor) -> torch.Tensor:
        (embedding,) = condition
        return (self.enc_cond if side == 'enc' else self.dec_cond)[level](x, embedding)

    def forward(self, inp: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """The image restored as the instruction ``embedding`` (B x txtdim) says."""
        return super().forward(inp, embedding)

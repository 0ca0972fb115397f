"""DegradationContrastiveLoss (L_cl): InfoNCE that teaches the CFE to tell degradations apart."""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from ..registry import register_loss
from .placement import refusal

__all__ = ['DegradationContrastiveLoss', 'gather_detached']


def gather_detached(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` from every process (no gradient); ``x`` itself when not distributed."""
    x = x.detach()
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


@register_loss
class DegradationContrastiveLoss(nn.Module):
    """InfoNCE over degradation vectors.

    For anchor i (z of a degraded crop) the positive is z of a second crop of the same
    degraded image (same noise realisation); the negatives are the anchors of the whole
    global batch (gathered across processes, detached) whose task differs:

        l_i = -log( e^{s(i,pos)/t} / (e^{s(i,pos)/t} + sum_{j: task_j != task_i} e^{s(i,j)/t}) )

    with s the cosine similarity.  The loss is the mean of l_i over anchors that have at
    least one negative; a batch without any gives exactly zero (never NaN).

    BasicSR style: ``loss(pred, target, labels=task_ids)`` with pred = anchor z (B x D),
    target = positive z (B x D), labels = task ids (B,).
    """

    def __init__(self, loss_weight: float = 1.0, temperature: float = 0.1) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.loss_weight = loss_weight
        self.temperature = temperature

    def forward(self, pred: torch.Tensor, target: torch.Tensor, labels: torch.Tensor | None = None,
                **kwargs) -> torch.Tensor:
        if labels is None or pred.ndim != 2:  # two images, as BasicSR's SRModel passes them
            raise refusal('DegradationContrastiveLoss')
        dtype = torch.promote_types(pred.dtype, torch.float32)  # bf16 logits lose too much
        anchor = F.normalize(pred.to(dtype), dim=1)
        positive = F.normalize(target.to(dtype), dim=1)
        bank = F.normalize(gather_detached(anchor), dim=1)
        bank_labels = gather_detached(labels.to(anchor.device))
        pos = (anchor * positive).sum(dim=1, keepdim=True) / self.temperature
        neg = anchor @ bank.t() / self.temperature
        is_neg = labels.to(anchor.device)[:, None] != bank_labels[None, :]
        neg = neg.masked_fill(~is_neg, float('-inf'))
        logits = torch.cat([pos, neg], dim=1)
        per_anchor = torch.logsumexp(logits, dim=1) - pos[:, 0]
        valid = is_neg.any(dim=1)
        if not bool(valid.any()):
            return pred.sum() * 0.0  # keeps the graph; no NaN
        return self.loss_weight * per_anchor[valid].mean()

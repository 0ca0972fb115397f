"""Losses against independent small computations."""
from __future__ import annotations

import math

import pytest
import torch

from perceive_ir_arch.losses import DegradationContrastiveLoss


def unit(*v):
    t = torch.tensor(v, dtype=torch.float64)
    return t / t.norm()


def test_contrastive_loss_equals_the_hand_computed_infonce():
    a = torch.stack([unit(1, 0), unit(0, 1), unit(1, 1)])
    p = torch.stack([unit(1, 0.2), unit(0.1, 1), unit(1, 0.9)])
    labels = torch.tensor([0, 1, 0])
    t = 0.1
    cos = lambda x, y: float(x @ y)  # noqa: E731
    expected = []
    for i in range(3):
        pos = math.exp(cos(a[i], p[i]) / t)
        negs = sum(math.exp(cos(a[i], a[j]) / t) for j in range(3) if labels[j] != labels[i])
        expected.append(-math.log(pos / (pos + negs)))
    loss = DegradationContrastiveLoss(loss_weight=2.0, temperature=t)(a, p, labels=labels)
    assert float(loss) == pytest.approx(2.0 * sum(expected) / 3, rel=1e-9)


def test_contrastive_loss_ignores_anchors_without_negatives_and_never_nans():
    a, p = torch.randn(4, 8, requires_grad=True), torch.randn(4, 8)
    loss = DegradationContrastiveLoss()(a, p, labels=torch.zeros(4, dtype=torch.long))
    assert float(loss) == 0.0
    loss.backward()
    assert torch.equal(a.grad, torch.zeros_like(a))  # no anchor counts: no gradient, and no NaN
    # one anchor of another task: only the anchors that see it as a negative count
    labels = torch.tensor([0, 0, 0, 1])
    full = DegradationContrastiveLoss()(a, p, labels=labels)
    assert torch.isfinite(full)


def test_contrastive_loss_falls_as_tasks_separate():
    torch.manual_seed(0)
    z = (torch.ones(8, 16) + 0.1 * torch.randn(8, 16)).requires_grad_()  # all alike at first
    labels = torch.arange(8) % 4
    opt = torch.optim.SGD([z], lr=0.5)
    crit = DegradationContrastiveLoss()
    first = None
    for _ in range(50):
        loss = crit(z, z.detach() + 0.01 * torch.randn_like(z), labels=labels)
        first = first if first is not None else float(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss) < 0.5 * first

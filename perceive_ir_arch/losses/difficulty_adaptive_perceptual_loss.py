"""DifficultyAdaptivePerceptualLoss (L_dpl): a contrastive ratio on frozen VGG16 features.

    L = mean_b sum_l w_l * D_l(R, GT) / (2 D_l(R, LQ) + sum_k m_k lambda_k D_l(R, P_k))

with D_l the mean absolute difference of VGG16 features at tap l, R the restored image
(anchor), GT the positive, LQ the easy negative and P_k the outputs of frozen proxy
restorers (hard negatives).  m_k = 1 when proxy k handles the sample's task;
lambda_k = 1.25 when PSNR(P_k, GT) <= rho (the model's own probe PSNR: over every task's
probe crops by default, the sample's task's with ``probe_rho: per_task``), else 0.75
(docs/method.md section 3).
"""
from __future__ import annotations

import logging
import os
from typing import Sequence

import torch
from torch import nn

from ..backbones.vgg16 import VGG16Features
from ..metrics.psnr import batch_psnr
from ..registry import register_loss
from .placement import refusal
from .proxy import Proxy

__all__ = ['DifficultyAdaptivePerceptualLoss']

logger = logging.getLogger('basicsr.perceive_ir')


@register_loss
class DifficultyAdaptivePerceptualLoss(nn.Module):
    """See the module docstring.  BasicSR style: ``loss(pred, target, lq=..., task_id=...,
    rho=...)``; ``rho`` is the per-sample probe PSNR (B,), or None before the first probe
    (lambda is then 1 for every proxy).

    Options: ``loss_weight``, ``vgg_pretrained`` (``vgg16-397923af.pth``; true = found by the
    lookup rule; ~ = random, tests only), ``layers`` (feature indices), ``layer_weights``, ``proxies``: a list of
    ``{network: {type: ..., ...}, checkpoint: path, param_key: params, tasks: [...]}``, or
    ``checkpoints: [fold0, fold1]`` for the stage-1 medium tier cross-fitted (each sample's
    medium image from the restorer that did not see it: its stage-1b render when the
    dataset has ``medium_root``, else computed), as the release does; ``tasks``, ``sigmas``,
    ``task_inputs``, ``output``, ``external`` as ``Proxy`` says.  ``external_proxies:
    false`` drops the proxies marked ``external`` (for users without the peers' files).
    """

    def __init__(self, loss_weight: float = 1.0, vgg_pretrained: str | bool | None = None,
                 layers: Sequence[int] = (3, 7, 11, 15),
                 layer_weights: Sequence[float] = (1 / 12, 1 / 6, 1 / 3, 1.0),
                 proxies: Sequence[dict] | None = None, easy_weight: float = 2.0,
                 hard_lambdas: Sequence[float] = (1.25, 0.75), eps: float = 1e-7,
                 clamp_restored: bool = True, external_proxies: bool = True) -> None:
        super().__init__()
        if len(layers) != len(layer_weights):
            raise ValueError(f'train.dpl_opt: {len(layers)} layers but {len(layer_weights)} weights')
        self.vgg = VGG16Features(layers, vgg_pretrained)
        kept = [(i, p) for i, p in enumerate(proxies or []) if external_proxies or not p.get('external')]
        dropped = [p.get('name', p.get('network', {}).get('type')) for p in proxies or []
                   if p.get('external') and not external_proxies]
        if dropped:
            logger.info(f'L_dpl: external_proxies: false drops the hard negatives {dropped}')
        self.proxies = nn.ModuleList(Proxy(p, f'train.dpl_opt.proxies[{i}]') for i, p in kept)
        if self.proxies:
            logger.info('L_dpl hard negatives: ' + '; '.join(
                f'{p.name} ({", ".join(os.path.basename(f) for f in p.files)})' for p in self.proxies))
        self.loss_weight, self.layer_weights = loss_weight, [float(w) for w in layer_weights]
        self.easy_weight, self.hard_lambdas, self.eps = easy_weight, tuple(hard_lambdas), eps
        self.clamp_restored = clamp_restored

    def train(self, mode: bool = True) -> 'DifficultyAdaptivePerceptualLoss':
        return super().train(False)

    def forward(self, pred: torch.Tensor, target: torch.Tensor, lq: torch.Tensor | None = None,
                task_id: torch.Tensor | None = None, rho: torch.Tensor | None = None,
                fold: torch.Tensor | None = None, medium: torch.Tensor | None = None,
                has_medium: torch.Tensor | None = None, level: torch.Tensor | None = None,
                **kwargs) -> torch.Tensor:
        if lq is None:  # (restored, clean) alone, as BasicSR's SRModel passes them
            raise refusal('DifficultyAdaptivePerceptualLoss')
        b = pred.shape[0]
        with torch.no_grad():  # fixed images: their features once per step, in one batch
            fixed, coefs = [target.float(), lq.float()], []  # coef: per-sample m_k * lambda_k
            for proxy in self.proxies:
                rendered = (kwargs.get(f'render_{proxy.name}'), kwargs.get(f'has_render_{proxy.name}'))
                out = proxy(lq, fold, medium, has_medium, task_id, level, rendered)
                m = proxy.mask(b, task_id, level).to(pred.device).float()
                if rho is None:
                    lam = torch.ones(b, device=pred.device)
                else:
                    hard, easy = self.hard_lambdas
                    lam = torch.where(batch_psnr(out, target) <= rho, hard, easy)
                fixed.append(out)
                coefs.append(m * lam)
            per_image = [f.split(b) for f in self.vgg(torch.cat(fixed))]
            f_gt = [f[0] for f in per_image]
            f_lq = [f[1] for f in per_image]
            negatives = [([f[2 + k] for f in per_image], coef) for k, coef in enumerate(coefs)]
        # the release clamps the restored image to [0, 1] before VGG16 (no gradient outside)
        f_r = self.vgg(pred.float().clamp(0, 1) if self.clamp_restored else pred.float())
        total = pred.new_zeros(b, dtype=torch.float32)
        for l, w in enumerate(self.layer_weights):
            dist = lambda a: (f_r[l] - a).abs().flatten(1).mean(1)  # noqa: E731
            denom = self.easy_weight * dist(f_lq[l])
            for feats, coef in negatives:
                denom = denom + coef * dist(feats[l])
            total = total + w * dist(f_gt[l]) / (denom + self.eps)
        return self.loss_weight * total.mean()

"""Optimizers by torch.optim name (basicsr 1.4.2 only knows Adam)."""
from __future__ import annotations

import torch

from ..utils.suggest import did_you_mean

__all__ = ['build_optimizer']


def build_optimizer(optim_type: str, params, lr: float, **kwargs) -> torch.optim.Optimizer:
    cls = getattr(torch.optim, optim_type, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        names = [n for n, c in vars(torch.optim).items()
                 if isinstance(c, type) and issubclass(c, torch.optim.Optimizer)]
        raise ValueError(f'train.optim_g.type: {optim_type!r} is not a torch.optim optimizer.'
                         f'{did_you_mean(optim_type, names, sentence=True)}')
    return cls(params, lr=lr, **kwargs)

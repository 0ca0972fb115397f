"""The difficulty probe of L_dpl: the model's own PSNR on fixed training crops per task."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from ..tasks import TASKS
from ..metrics.psnr import batch_psnr

__all__ = ['DifficultyProbe']


RHO_MODES = ('overall', 'per_task')


class DifficultyProbe:
    """``per_task`` training crops of each task, drawn once with a fixed seed (numpy's
    global state is restored after), and the model's mean PSNR on them per task.

    rho is the mean over all probe crops for every sample (``overall``, the authors'
    release) or the sample's own task's mean (``per_task``)."""

    def __init__(self, dataset, per_task: int = 24, seed: int = 0, rho: str = 'overall') -> None:
        if rho not in RHO_MODES:
            raise ValueError(f'train.dpl_opt.probe_rho: {rho!r}; one of {list(RHO_MODES)}')
        self.mode = rho
        state = np.random.get_state()
        np.random.seed(seed)
        try:
            groups = ({t: dataset.task_indices(t) for t in dataset.task_counts()}
                      if hasattr(dataset, 'task_indices') else {'all': list(range(len(dataset)))})
            self.crops: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
            for task, indices in groups.items():
                picked = np.random.choice(indices, size=per_task, replace=len(indices) < per_task)
                samples = [dataset[int(i)] for i in picked]
                self.crops[task] = (torch.stack([s['lq'] for s in samples]),
                                    torch.stack([s['gt'] for s in samples]))
        finally:
            np.random.set_state(state)
        self.rho: dict[str, float] = {}

    @torch.no_grad()
    def measure(self, net: torch.nn.Module, device: torch.device, context: Callable,
                batch: int = 8) -> dict[str, float]:
        was_training = net.training
        net.eval()
        try:
            for task, (lq, gt) in self.crops.items():
                scores = []
                for i in range(0, len(lq), batch):
                    with context():
                        out = net(lq[i:i + batch].to(device))
                    scores.append(batch_psnr(out.float(), gt[i:i + batch].to(device)).cpu())
                self.rho[task] = float(torch.cat(scores).mean())
        finally:
            net.train(was_training)
        return dict(self.rho)

    def rho_for(self, task_id: torch.Tensor | None, batch: int, device: torch.device) -> torch.Tensor | None:
        """Per-sample rho (the mean over all crops, or the sample's task's mean); None
        before the first measurement."""
        if not self.rho:
            return None
        mean = sum(self.rho.values()) / len(self.rho)  # every task has per_task crops
        if task_id is None or self.mode == 'overall':
            return torch.full((batch,), mean, device=device)
        table = torch.tensor([self.rho.get(t, mean) for t in TASKS], device=device)
        return table[task_id.to(device)]

    def state_dict(self) -> dict[str, float]:
        return dict(self.rho)

    def load_state_dict(self, rho: dict[str, float]) -> None:
        self.rho = {k: float(v) for k, v in rho.items() if math.isfinite(float(v))}

"""QualityTierDataset: (degraded, medium, clean) triplets for the stage-1 quality perceiver."""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import torch
from torch.utils import data

from ..registry import register_dataset
from ..utils.image_io import decode_image
from ._crop import fit_to_crop, random_window
from .mixed_degradation_dataset import MixedDegradationDataset
from .options import check_dataset_keys
from .tasks import TASKS

__all__ = ['QualityTierDataset']


@register_dataset
class QualityTierDataset(data.Dataset):
    """Triplets for prompt learning: tier 0 ``lq`` (degraded), tier 1 ``medium`` (a plain
    restorer's output, from ``render_medium``), tier 2 ``gt`` (clean).

    Options: ``sources`` exactly as ``MixedDegradationDataset`` (the same pairs the medium
    restorers saw; repeat factors are ignored), ``medium_root`` (where render_medium wrote
    ``<task>/<name>.png``), ``gt_size`` (224: the crop taken at the same place in all
    three images when training), ``seed``.  Tasks are balanced: each task's triplets are
    repeated so that every task is drawn about equally often.  Evaluation samples are the
    whole images.  A triplet with a missing member fails at construction, named.
    """

    gives_task_labels = True  # every sample has task and task_id

    def __init__(self, opt: dict[str, Any]) -> None:
        super().__init__()
        self.opt = opt
        name = opt.get('name', 'QualityTierDataset')
        check_dataset_keys(opt, ('sources', 'medium_root', 'gt_size', 'seed', 'io_backend'), name,
                           'QualityTierDataset')
        self.train = opt.get('phase', 'train') == 'train'
        self.gt_size = opt.get('gt_size')
        if self.train and not self.gt_size:
            raise KeyError(f'{name}.gt_size: the training crop size is required (224 in the paper)')
        if not opt.get('medium_root'):
            raise KeyError(f'{name}.medium_root: the folder render_medium wrote the medium tier to')
        self.medium_root = str(opt['medium_root'])
        sources = [{k: v for k, v in s.items() if k != 'repeat'} for s in opt.get('sources') or []]
        inner = {k: v for k, v in opt.items() if k in ('io_backend', 'seed')}
        self.pairs = MixedDegradationDataset(dict(inner, name=name, phase='val', sources=sources))
        keys = [self.pairs.sample_key(i) for i in range(len(self.pairs))]
        self.medium = [os.path.join(self.medium_root, k + '.png') for k in keys]
        missing = [(k, p) for k, p in zip(keys, self.medium) if not os.path.isfile(p)]
        if missing:
            shown = '; '.join(f'{k}: {p}' for k, p in missing[:5])
            raise FileNotFoundError(
                f'{name}: {len(missing)} of {len(keys)} triplets have no medium image ({shown}'
                f'{"; ..." if len(missing) > 5 else ""}); run python -m perceive_ir_arch.render_medium')
        by_task: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            by_task.setdefault(k.split('/', 1)[0], []).append(i)
        most = max(len(v) for v in by_task.values())
        self.index = [i for task in by_task for i in by_task[task] * math.ceil(most / len(by_task[task]))]

    def __len__(self) -> int:
        return len(self.index)

    def task_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for i in self.index:
            task = self.pairs.sample_key(i).split('/', 1)[0]
            counts[task] = counts.get(task, 0) + 1
        return counts

    def __getitem__(self, index: int) -> dict[str, Any]:
        j = self.index[index]
        sample = self.pairs[j]
        path = self.medium[j]
        with open(path, 'rb') as f:
            medium = torch.from_numpy(np.ascontiguousarray(decode_image(f.read(), path).transpose(2, 0, 1)))
        if medium.shape != sample['gt'].shape:
            raise ValueError(f'medium {path!r} is {tuple(medium.shape[1:])} but its pair is '
                             f'{tuple(sample["gt"].shape[1:])}; render it again')
        images = {'lq': sample['lq'], 'medium': medium, 'gt': sample['gt']}
        if self.train:
            rng = np.random.default_rng(np.random.randint(0, 2 ** 31 - 1))
            size = int(self.gt_size)
            if min(medium.shape[1:]) < size:  # as the release: upscaled, not dropped
                images = {k: torch.from_numpy(fit_to_crop(v.permute(1, 2, 0).numpy(), size)).permute(2, 0, 1)
                          for k, v in images.items()}
            h, w = images['gt'].shape[1:]
            top, left = random_window(rng, h, w, size, sample['lq_path'])
            images = {k: v[:, top:top + size, left:left + size].contiguous() for k, v in images.items()}
        return dict(images, lq_path=sample['lq_path'], gt_path=sample['gt_path'], medium_path=path,
                    task=sample['task'], task_id=TASKS.index(sample['task']))

"""The keys of a dataset block: a typo stops the run with the closest real key."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..utils.suggest import did_you_mean

__all__ = ['RUNNER_KEYS', 'check_dataset_keys']

# keys of a dataset block that BasicSR's runner and loader read, whatever the dataset
RUNNER_KEYS = ('name', 'type', 'phase', 'scale', 'batch_size_per_gpu', 'num_worker_per_gpu', 'use_shuffle',
               'dataset_enlarge_ratio', 'prefetch_mode', 'num_prefetch_queue', 'pin_memory', 'persistent_workers')


def check_dataset_keys(opt: Mapping[str, Any], own: Sequence[str], name: str, kind: str) -> None:
    """KeyError naming the first key of ``opt`` that neither the dataset (``own``) nor
    BasicSR's runner reads, with the closest one: a typo (``positve_crop``,
    ``medium_rot``) would otherwise be ignored and change the run silently."""
    keys = tuple(own) + RUNNER_KEYS
    unknown = sorted(k for k in opt if k not in keys)
    if unknown:
        raise KeyError(f'{name}: unknown key {unknown[0]!r}{did_you_mean(unknown[0], keys)}'
                       + (f' (and {unknown[1:]})' if len(unknown) > 1 else '')
                       + f'; a {kind} block takes {", ".join(own)} and BasicSR\'s {", ".join(RUNNER_KEYS)}')

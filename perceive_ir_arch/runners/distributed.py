"""Distributed training that also runs where there is no GPU (gloo on CPU).

BasicSR's launcher code assumes CUDA and NCCL (``torch.cuda.set_device`` in init_dist);
this replacement, swapped in by the plugin's runner for the run only, takes BasicSR's
path unchanged when CUDA is present.
"""
from __future__ import annotations

import torch
import torch.distributed as dist

__all__ = ['init_dist']


def init_dist(launcher: str, backend: str = 'nccl', **kwargs) -> None:
    """BasicSR's init_dist; on a machine without CUDA, torchrun's env with gloo."""
    from basicsr.utils.dist_util import init_dist as basicsr_init_dist

    if torch.cuda.is_available():
        basicsr_init_dist(launcher, backend, **kwargs)
        return
    if launcher != 'pytorch':
        raise RuntimeError(f'--launcher {launcher} needs GPUs; on CPU-only machines use torchrun '
                           '(--launcher pytorch), which falls back to the gloo backend')
    dist.init_process_group(backend='gloo')

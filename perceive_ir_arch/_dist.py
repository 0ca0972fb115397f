"""Distributed training that also runs where there is no GPU (gloo on CPU).

BasicSR's launcher code assumes CUDA and NCCL (``torch.cuda.set_device`` in init_dist,
``device_ids=[torch.cuda.current_device()]`` in model_to_device).  These replacements
take BasicSR's path unchanged when CUDA is present.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
from torch.nn.parallel import DataParallel, DistributedDataParallel

__all__ = ['init_dist', 'model_to_device']


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


def model_to_device(model, net: torch.nn.Module) -> torch.nn.Module:
    """BaseModel.model_to_device with device_ids only for CUDA (DDP on CPU takes none);
    DataParallel refused for networks that hold frozen parts outside their module tree."""
    net = net.to(model.device)
    if model.opt['dist']:
        ids = [torch.cuda.current_device()] if model.device.type == 'cuda' else None
        return DistributedDataParallel(net, device_ids=ids,
                                       find_unused_parameters=model.opt.get('find_unused_parameters', False))
    if model.opt['num_gpu'] > 1:
        from .archs.frozen import data_parallel_refusal

        why = data_parallel_refusal(net, model.opt['num_gpu'])
        if why:  # before the first step; BasicSR would also have multiplied the batch
            raise RuntimeError(why)
        return DataParallel(net)
    return net

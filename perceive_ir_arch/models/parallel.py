"""How a model's network goes onto its device: DDP with device ids only for CUDA (BasicSR's
``model_to_device`` passes ``torch.cuda.current_device()`` even on a CPU), DataParallel
refused for networks that hold frozen parts outside their module tree.  The plugin's models
use it as their ``model_to_device``; the plugin's runner gives it to BasicSR's models too."""
from __future__ import annotations

import torch
from torch.nn.parallel import DataParallel, DistributedDataParallel

from ..backbones.frozen import data_parallel_refusal

__all__ = ['model_to_device']


def model_to_device(model, net: torch.nn.Module) -> torch.nn.Module:
    """BaseModel.model_to_device with device_ids only for CUDA (DDP on CPU takes none);
    DataParallel refused for networks that hold frozen parts outside their module tree."""
    net = net.to(model.device)
    if model.opt['dist']:
        ids = [torch.cuda.current_device()] if model.device.type == 'cuda' else None
        return DistributedDataParallel(net, device_ids=ids,
                                       find_unused_parameters=model.opt.get('find_unused_parameters', False))
    if model.opt['num_gpu'] > 1:
        why = data_parallel_refusal(net, model.opt['num_gpu'])
        if why:  # before the first step; BasicSR would also have multiplied the batch
            raise RuntimeError(why)
        return DataParallel(net)
    return net

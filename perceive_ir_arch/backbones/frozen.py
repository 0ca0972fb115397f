"""Frozen parts that a network uses but never trains, saves or averages."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ['HoldsFrozen', 'freeze', 'seeded_build', 'register_normalisation', 'data_parallel_refusal']


def data_parallel_refusal(net: nn.Module, gpus: int | str = 'N') -> str | None:
    """Why ``net`` cannot run under DataParallel, or None: its replicas would share the
    frozen parts held outside its module tree, each moving them to its own GPU."""
    held = [(type(m).__name__, name) for m in net.modules() if isinstance(m, HoldsFrozen)
            for name in m.__dict__.get('_frozen_names', []) if getattr(m, name) is not None]
    if not held:
        return None
    what = ', '.join(f'{cls}.{name}' for cls, name in held)
    return (f'DataParallel (num_gpu: {gpus} without a launcher) cannot run {held[0][0]}: its replicas '
            f'would share the frozen {what} across GPUs. Train on several GPUs with DDP, one process '
            f'per GPU: torchrun --nproc_per_node={gpus} -m perceive_ir_arch.train -opt OPTIONS.yml '
            '--launcher pytorch (or set num_gpu: 1)')


def freeze(module: nn.Module) -> nn.Module:
    module.requires_grad_(False)
    nn.Module.train(module, False)  # the base method: subclasses may pin train() to a no-op
    return module


def register_normalisation(module: nn.Module, mean_std: tuple) -> None:
    """Non-persistent ``mean`` / ``std`` buffers (1 x 3 x 1 x 1) for a part's input."""
    mean, std = mean_std
    module.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
    module.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1), persistent=False)


def seeded_build(build, seed: int = 0):
    """Call ``build()`` with a fixed torch seed, restoring the caller's RNG state after.

    "Random" frozen weights are then the same in every process (DDP ranks are seeded
    differently) and in every rebuild (checkpoint round trips)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


class HoldsFrozen(nn.Module):
    """An nn.Module that holds frozen modules outside its registered children.

    ``hold_frozen(name, module)`` keeps ``module`` out of ``state_dict()``,
    ``parameters()`` and ``train()`` (so out of BasicSR's checkpoints, optimizer and EMA),
    while ``.to()`` / ``.half()`` / ``.cuda()`` still move it.
    """

    def hold_frozen(self, name: str, module: nn.Module | None) -> None:
        object.__setattr__(self, name, module)
        names = self.__dict__.setdefault('_frozen_names', [])
        if name not in names:
            names.append(name)

    def _replicate_for_data_parallel(self):
        raise RuntimeError(data_parallel_refusal(self))

    def _apply(self, fn, recurse: bool = True):
        super()._apply(fn, recurse)
        for name in self.__dict__.get('_frozen_names', []):
            module = getattr(self, name)
            if module is not None:
                module._apply(fn)
        return self

"""The memory a training step needs, logged at the start of training."""
from __future__ import annotations

import torch
from basicsr.utils import get_root_logger

__all__ = ['log_step_memory']


def log_step_memory(net: torch.nn.Module, opt: dict, accumulate: int, autocast: torch.dtype | None) -> None:
    """From the network's own estimate (networks that have one, ``training_bytes``), for the
    training set's crop and batch of ``opt``, split into ``accumulate`` micro-batches."""
    train_set = (opt.get('datasets') or {}).get('train') or {}
    crop, batch = train_set.get('gt_size'), train_set.get('batch_size_per_gpu')
    if not (hasattr(net, 'training_bytes') and crop and batch):
        return
    element = 2 if autocast is not None else 4
    micro = batch // accumulate
    activations = net.training_bytes(micro, crop * crop, element)
    params = sum(p.numel() * p.element_size() for p in net.parameters())
    state = 4 * params  # weights, gradients, AdamW's two moments
    gib = 2 ** 30
    get_root_logger().info(
        f'Step memory estimate per process: network activations {activations / gib:.1f} GiB '
        f'(micro-batch {micro} of {crop}x{crop}, accumulate {accumulate}, checkpointing '
        f'{bool(getattr(net, "checkpointing", False))}, {"16" if element == 2 else "32"}-bit) + '
        f'weights, gradients and optimizer state {state / gib:.2f} GiB; the frozen parts and '
        'the losses\' activations come on top (docs/performance.md)')

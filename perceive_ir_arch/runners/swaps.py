"""Pieces of BasicSR swapped for the plugin's for the length of one run, and put back after."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

from ..models import checkpoints
from ..models.parallel import model_to_device

__all__ = ['swapped', 'model_swaps']


@contextlib.contextmanager
def swapped(swaps: Sequence[tuple[Any, str, Any]]) -> Iterator[None]:
    """``setattr(owner, name, new)`` for each swap inside the block; the originals after."""
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in swaps]
    for owner, name, new in swaps:
        setattr(owner, name, new)
    try:
        yield
    finally:
        for owner, name, old in originals:
            setattr(owner, name, old)


def model_swaps() -> list[tuple[Any, str, Any]]:
    """BasicSR's models, as the plugin runs them: networks onto any device (DDP on a CPU
    too), network files and training states written atomically, ``pretrain_network_*``
    read through the plugin's one reader of trained networks."""
    from basicsr.models.base_model import BaseModel

    return [(BaseModel, 'model_to_device', model_to_device),
            (BaseModel, 'save_network', checkpoints.save_network),
            (BaseModel, 'save_training_state', checkpoints.save_training_state),
            (BaseModel, 'load_network', checkpoints.load_network)]

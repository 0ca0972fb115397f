"""The one rule that picks a device, for every command and object of the plugin."""
from __future__ import annotations

import torch

__all__ = ['select_device']


def select_device(name: str | torch.device | None = 'auto') -> torch.device:
    """'auto' (or None) = the current CUDA device when there is one, else the CPU; 'cpu',
    'cuda', 'cuda:N' as given.  Asking for CUDA without one is a RuntimeError, a name
    that is no device a ValueError."""
    if isinstance(name, torch.device):
        return name
    if name in (None, 'auto'):
        return torch.device('cuda', torch.cuda.current_device()) if torch.cuda.is_available() else torch.device('cpu')
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f'device {name!r}: expected auto, cpu, cuda or cuda:N') from None
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError(f'device {name!r} asked for, but no CUDA device is available')
    return device

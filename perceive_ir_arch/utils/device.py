"""The one rule that picks a device, for every command and object of the plugin."""
from __future__ import annotations

import torch

__all__ = ['HALF_DTYPES', 'select_device', 'cpu_bf16_feature', 'half_refusal']

# the half precisions an autocast takes, by the names options and flags use
HALF_DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}


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


def cpu_bf16_feature() -> str | None:
    """The CPU's native bf16 instructions (``avx512_bf16``, ``amx_bf16``), None when it has
    none or cannot be told (Linux's /proc/cpuinfo is read)."""
    try:
        with open('/proc/cpuinfo', encoding='utf-8', errors='replace') as f:
            flags = next((line.split(':', 1)[1].split() for line in f if line.startswith('flags')), [])
    except OSError:
        return None
    return next((flag for flag in ('amx_bf16', 'avx512_bf16') if flag in flags), None)


def half_refusal(device: torch.device, half: str | None) -> str | None:
    """Why ``half`` ('bf16', 'fp16') autocast cannot run on ``device``, None when it can."""
    if half is None:
        return None
    if device.type == 'cuda':
        if half == 'bf16' and not torch.cuda.is_bf16_supported():
            return f'{torch.cuda.get_device_name(device)} has no bf16; use fp16'
        return None
    if device.type != 'cpu':
        return f'half precision is offered on CUDA devices and CPUs, not on {device.type}'
    if half == 'fp16':
        return 'fp16 autocast needs a CUDA device; on a CPU, bf16 runs where the CPU has native bf16'
    if cpu_bf16_feature() is None:
        return ('this CPU has no native bf16 instructions (AVX512_BF16 or AMX): bf16 would be emulated, '
                'slower than fp32 and less exact; restore in fp32 (leave out the half option)')
    return None

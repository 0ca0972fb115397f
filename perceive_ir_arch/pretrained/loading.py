"""One way to put a file's weights into a module: strict, with one message when they do not fit."""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from .identify import describe
from .locate import locate
from .reading import PretrainedFileError, read_checkpoint, read_state_dict

__all__ = ['mismatch', 'load_strict', 'pretrained_state', 'PARAM_KEYS', 'network_params', 'load_network_file']

# which entry of a BasicSR checkpoint holds the weights, first found: the EMA copy first
PARAM_KEYS = ('params_ema', 'params')


def mismatch(own: Mapping[str, torch.Tensor], given: Mapping[str, torch.Tensor]) -> str | None:
    """What keeps ``given`` from loading strictly into a module whose state is ``own``."""
    missing = sorted(set(own) - set(given))
    unexpected = sorted(set(given) - set(own))
    shapes = [f'{k}: file {tuple(given[k].shape)} vs network {tuple(own[k].shape)}'
              for k in own if k in given and isinstance(given[k], torch.Tensor)
              and given[k].shape != own[k].shape]

    def few(items: list[str]) -> str:
        return ', '.join(items[:5]) + (f' (+{len(items) - 5} more)' if len(items) > 5 else '')

    parts = [f'{len(missing)} missing: {few(missing)}' if missing else '',
             f'{len(unexpected)} unexpected: {few(unexpected)}' if unexpected else '',
             f'{len(shapes)} of another shape: {few(shapes)}' if shapes else '']
    text = '; '.join(p for p in parts if p)
    return text or None


def load_strict(module: nn.Module, state: Mapping[str, torch.Tensor], *, option: str, path: str,
                needs: str, what: str | None = None) -> None:
    """Load ``state`` into ``module`` (dtypes converted), or raise PretrainedFileError saying
    what the file is (``what``, default: told from ``state``) and what ``needs`` (the
    module's expectation) asked for."""
    problem = mismatch(module.state_dict(), state)
    if problem:
        raise PretrainedFileError(f'{option}: {path} is {what or describe(state)}; {needs} ({problem})')
    module.load_state_dict(state, strict=True)


def pretrained_state(name: str, value: str | bool | None,
                     option: str) -> tuple[str, dict[str, torch.Tensor]] | None:
    """(path, state dict) of pretrained part ``name`` as ``option`` asks, None for random weights."""
    path = locate(name, value, option)
    return None if path is None else (path, read_state_dict(path, option))


def network_params(data, path: str, option: str, param_key: str | None = None) -> dict[str, torch.Tensor]:
    """The weights of a trained network in a loaded BasicSR checkpoint: ``param_key`` when
    given, else ``params_ema``, then ``params`` (the one rule of every loader of trained
    networks: restorers, proxies, stage-1b restorers)."""
    keys = (param_key,) if param_key else PARAM_KEYS
    if isinstance(data, dict):
        for key in keys:
            if isinstance(data.get(key), dict):
                return data[key]
    raise PretrainedFileError(f'{option}: {path} is {describe(data)}, not the checkpoint of a '
                              f'trained network (looked for {" or ".join(keys)})')


def load_network_file(net: nn.Module, path: str, option: str, param_key: str | None = None) -> nn.Module:
    """Load a trained network's checkpoint (BasicSR ``net_g_*.pth`` or a plain state dict)
    into ``net``, strictly; one message names the option, the file and what does not fit."""
    import os

    if not os.path.isfile(str(path)):
        raise FileNotFoundError(f'{option}: {path!r} does not exist')
    data = read_checkpoint(str(path), option)
    params = network_params(data, str(path), option, param_key)
    problem = mismatch(net.state_dict(), params)
    if problem:
        raise PretrainedFileError(f'{option}: {path} does not fit the network {type(net).__name__}: {problem}')
    net.load_state_dict(params, strict=True)
    return net

"""The one reader of trained networks' files: every container, one result, one message.

Containers, told apart by what they hold (nothing is unpickled that could run code):

- those registered by the modules that own them (``register_container``): the perceive-ir
  restorer file (``inference/restorer_file.py``) and the authors' release files
  (``archs/perceive_ir_release.py``: ``AIO-3D.pth``, ``medium_020000.pth``), each of which
  says which network it holds;
- a BasicSR checkpoint, ``net_g_*.pth``: ``params_ema``, then ``params`` (or ``param_key``);
- a PyTorch Lightning checkpoint: ``state_dict`` with the module's prefix (``net.``);
- ``{"model": state_dict}`` (FSNet's files, and many training scripts');
- a plain state dict.

``module.`` prefixes (DataParallel / DDP saves) are dropped, as BasicSR does.  This module
knows no architecture: a format that implies one is read by the module that owns it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch

from .identify import describe, is_pretrained_part
from .locate import locate
from .parts import PRETRAINED_PARTS
from .reading import PretrainedFileError, read_checkpoint

__all__ = ['PARAM_KEYS', 'TrainedWeights', 'ContainerReader', 'register_container', 'read_trained',
           'network_params', 'resolve_weights', 'strip_prefix']

# which entry of a BasicSR checkpoint holds the weights, first found: the EMA copy first
PARAM_KEYS = ('params_ema', 'params')


@dataclass
class TrainedWeights:
    params: dict[str, torch.Tensor]
    what: str                              # what the file is, for messages
    container: str                         # restorer | basicsr | release | lightning | model | state_dict
    network: dict[str, Any] | None = None  # the network_g block the file implies, if it does
    semantic: dict[str, Any] | None = None  # a restorer file's semantic encoder identity
    tasks: tuple[str, ...] | None = None   # the tasks it was trained for, when it says
    heldout_fold: int | None = None        # a stage-1 medium restorer's unseen fold
    model: str | None = None               # a packed model of the table (perceive_ir_arch.zoo)


def _is_state_dict(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())


def strip_prefix(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix):]: v for k, v in state.items()}
    return dict(state)


def network_params(data: Any, path: str, option: str, param_key: str | None = None,
                   fallback: bool = False) -> dict[str, torch.Tensor]:
    """The weights of a trained network in a loaded BasicSR checkpoint: ``param_key`` when
    given (then, with ``fallback``, the others, as BasicSR's own loader does), else
    ``params_ema``, then ``params``."""
    keys = (param_key,) if param_key else PARAM_KEYS
    if param_key and fallback:
        keys += tuple(k for k in PARAM_KEYS if k != param_key)
    if isinstance(data, dict):
        for key in keys:
            if isinstance(data.get(key), dict):
                return strip_prefix(data[key], 'module.')
    raise PretrainedFileError(f'{option}: {path} is {describe(data)}, not the checkpoint of a '
                              f'trained network (looked for {" or ".join(keys)})')


def resolve_weights(path: str, option: str) -> str:
    """The file ``path`` names: itself, or for a name of ``PRETRAINED_PARTS`` the file the
    lookup rule finds (FileNotFoundError saying where it is published otherwise)."""
    if os.path.isfile(path):
        return path

    if path in PRETRAINED_PARTS:  # a published file by its name: the lookup rule
        return locate(path, True, option)
    raise FileNotFoundError(f'{option}: weights file {path!r} does not exist')


# (data, path, option) -> the weights when ``data`` is this container, else None; raising
# PretrainedFileError for a file of the container that cannot serve
ContainerReader = Callable[[Any, str, str], 'TrainedWeights | None']
_CONTAINERS: dict[str, ContainerReader] = {}


def register_container(name: str, reader: ContainerReader) -> ContainerReader:
    """Let the module that owns a file format read it: ``read_trained`` asks every registered
    reader first (in registration order), then tries the generic containers."""
    _CONTAINERS[name] = reader
    return reader


def read_trained(path: str, option: str, param_key: str | None = None,
                 fallback: bool = False) -> TrainedWeights:
    """The trained network in the file at ``path`` (named ``option`` in messages); a name of
    ``PRETRAINED_PARTS`` (``perceive_ir_3task``, ...) is found by the lookup rule.
    ``param_key`` picks the entry of a BasicSR checkpoint (``fallback``: or the others).

    Raises FileNotFoundError for a missing file and PretrainedFileError for one that holds
    no trained network, naming the option, the path and what the file is."""
    path = resolve_weights(str(path), option)
    data = read_checkpoint(str(path), option)
    for reader in _CONTAINERS.values():
        found = reader(data, str(path), option)
        if found is not None:
            return found
    keys = PARAM_KEYS + ((param_key,) if param_key else ())
    if isinstance(data, Mapping) and any(isinstance(data.get(k), Mapping) for k in keys):
        return TrainedWeights(network_params(data, path, option, param_key, fallback), describe(data), 'basicsr')
    if isinstance(data, Mapping) and _is_state_dict(data.get('state_dict')):
        return TrainedWeights(strip_prefix(strip_prefix(data['state_dict'], 'net.'), 'module.'),
                              'a PyTorch Lightning checkpoint', 'lightning')
    if isinstance(data, Mapping) and _is_state_dict(data.get('model')):  # {"model": ...}: FSNet's
        return TrainedWeights(strip_prefix(data['model'], 'module.'), f"a checkpoint with a 'model' state dict "
                              f"({len(data['model'])} tensors)", 'model')
    if _is_state_dict(data) and not is_pretrained_part(data):
        return TrainedWeights(strip_prefix(data, 'module.'), describe(data), 'state_dict')
    raise PretrainedFileError(f'{option}: {path} is {describe(data)}, not the checkpoint of a trained '
                              f'network (looked for {" or ".join(PARAM_KEYS)}, a restorer file, a release '
                              'file, a state dict)')

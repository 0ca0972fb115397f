"""One way to put a file's weights into a module: strict, with one message when they do not fit."""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from .identify import describe
from .locate import locate
from .reading import PretrainedFileError, read_state_dict

__all__ = ['mismatch', 'load_strict', 'pretrained_state']


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

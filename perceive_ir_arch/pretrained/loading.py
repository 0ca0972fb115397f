"""One way to put a file's weights into a module: strict, with one message when they do not fit."""
from __future__ import annotations

import logging
from typing import Any, Mapping

import torch
from torch import nn

from ..registry import network_options
from .identify import describe
from .locate import locate
from .reading import PretrainedFileError, read_state_dict
from .trained import PARAM_KEYS, TrainedWeights, network_params, read_trained

__all__ = ['mismatch', 'load_strict', 'pretrained_state', 'PARAM_KEYS', 'network_params',
           'load_network_file', 'load_trained', 'check_fold']

# options that change what a network computes without changing its weights: a file that
# implies them must be loaded into a network built with the same values
_FUNCTION_OPTIONS = ('semantic_encoder', 'semantic_antialias', 'semantic_pos_antialias', 'cfe_centred_input',
                     'semantic_guidance', 'degradation_guidance', 'guide_padded')


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


def check_fold(weights: TrainedWeights, trained_on: int, option: str, path: str) -> None:
    """A stage-1 medium restorer that says which fold it held out must be the one trained on
    fold ``trained_on`` (it renders the other fold)."""
    if weights.heldout_fold is not None and weights.heldout_fold != 1 - trained_on:
        raise PretrainedFileError(
            f'{option}: {path} is {weights.what}; this place takes the restorer trained on fold '
            f'{trained_on} (the release\'s holdout_{1 - trained_on}/), which renders fold '
            f'{1 - trained_on}: swap the two files')


def _function_options(net: nn.Module, implied: Mapping[str, Any], option: str, path: str, what: str,
                      semantic: Mapping[str, Any] | None = None) -> None:
    try:
        own = network_options(net)
    except TypeError:
        return
    for key in _FUNCTION_OPTIONS:
        if key in implied and key in own and implied[key] != own[key]:
            raise PretrainedFileError(f'{option}: {path} is {what}, which needs {key}: {implied[key]}; '
                                      f'the network was built with {key}: {own[key]}')
    identity = net.semantic_identity() if hasattr(net, 'semantic_identity') else None
    trained_real = semantic is None or not semantic.get('random')  # a restorer file says which
    if implied.get('semantic_guidance') and trained_real and identity and identity.get('random'):
        raise PretrainedFileError(f'{option}: {path} is {what}, trained with the real DINOv2; the network '
                                  'was built with a RANDOM stand-in encoder: set '
                                  'network_g.semantic_pretrained: true (or the DINOv2 file)')


def _check_finite(weights: TrainedWeights, option: str, path: str) -> None:
    """A trained network with NaN or infinite weights restores to nothing: refused."""
    bad = [k for k, v in weights.params.items()
           if isinstance(v, torch.Tensor) and v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise PretrainedFileError(f'{option}: {path} is {weights.what}, but {len(bad)} of its '
                                  f'{len(weights.params)} tensors hold NaN or infinite values (e.g. {bad[0]}): '
                                  'a damaged file, or a training that diverged')


def load_network_file(net: nn.Module, path: str, option: str, param_key: str | None = None, *,
                      strict: bool = True, trained_on_fold: int | None = None) -> nn.Module:
    """Load a trained network's file (any container of ``read_trained``) into ``net``;
    one message names the option, the file, what it is and what does not fit.
    ``trained_on_fold``: the place takes a medium restorer trained on that fold."""
    return load_trained(net, read_trained(str(path), option, param_key), option, str(path),
                        strict=strict, trained_on_fold=trained_on_fold)


def load_trained(net: nn.Module, weights: TrainedWeights, option: str, path: str, *,
                 strict: bool = True, trained_on_fold: int | None = None) -> nn.Module:
    """``load_network_file`` for a file already read."""
    if trained_on_fold is not None:
        check_fold(weights, trained_on_fold, option, str(path))
    if weights.network is not None:
        _function_options(net, weights.network, option, str(path), weights.what, weights.semantic)
    _check_finite(weights, option, str(path))
    problem = mismatch(net.state_dict(), weights.params)
    if problem and strict:
        implied = ''
        if weights.network is not None:
            shown = {k: v for k, v in weights.network.items() if k in (
                'type', 'dim', 'num_blocks', 'heads', 'num_refinement_blocks', 'semantic_guidance')}
            implied = f' (it needs network_g {shown})'
        raise PretrainedFileError(f'{option}: {path} is {weights.what}{implied}; it does not fit the '
                                  f'network {type(net).__name__}: {problem}')
    params = weights.params
    if problem:  # not strict (BasicSR's strict_load_g: false): what fits, and a log line
        own = net.state_dict()
        params = {k: v for k, v in params.items() if k in own and own[k].shape == v.shape}
        logging.getLogger('basicsr').warning(f'{option}: {path} loaded partly (not strict): {problem}')
    net.load_state_dict(params, strict=strict)
    return net

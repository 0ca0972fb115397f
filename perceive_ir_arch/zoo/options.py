"""A model of the table named in a BasicSR option file (``path.pretrain_network_g: NAME``):
its network and its publisher's test protocol, with no network block to write."""
from __future__ import annotations

import copy
import os
from typing import Any

from .models import MODELS, ModelEntry

__all__ = ['named_model', 'with_named_model']


def named_model(opt: dict[str, Any]) -> ModelEntry | None:
    """The entry ``path.pretrain_network_g`` names, None for a file or no name."""
    name = (opt.get('path') or {}).get('pretrain_network_g')
    if not isinstance(name, str) or os.path.isfile(name):
        return None
    return MODELS.get(name)


def with_named_model(opt: dict[str, Any]) -> dict[str, Any]:
    """``opt`` with the named model's ``network_g`` (a given one must agree), its weights'
    name for the lookup rule, and its test protocol where ``val.protocol`` is not set."""
    entry = named_model(opt)
    if entry is None:
        return opt
    opt = copy.deepcopy(opt)
    if entry.network is not None:
        given = opt.get('network_g')
        if given and any(entry.network.get(k) != v for k, v in given.items()):
            raise ValueError(f'network_g: path.pretrain_network_g is the model {entry.name}, whose network is '
                             f'{dict(entry.network)}; leave network_g out (or write that block)')
        opt['network_g'] = dict(entry.network)
    opt['path']['pretrain_network_g'] = entry.weights
    if isinstance(opt.get('val'), dict):
        opt['val'].setdefault('protocol', entry.protocol.restore)
    return opt

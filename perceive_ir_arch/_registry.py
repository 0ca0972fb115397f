"""Registration into BasicSR's registries: idempotent, with "did you mean" lookups."""
from __future__ import annotations

import difflib
import warnings
from typing import Any, Callable, TypeVar

from basicsr.utils.registry import (ARCH_REGISTRY, DATASET_REGISTRY, LOSS_REGISTRY,
                                    METRIC_REGISTRY, MODEL_REGISTRY, Registry)

__all__ = ['register_arch', 'register_dataset', 'register_loss', 'register_metric',
           'register_model', 'lookup']

T = TypeVar('T')


def _register(registry: Registry, obj: T) -> T:
    name = obj.__name__
    if name in registry:
        existing = registry.get(name)
        if existing is not obj and (existing.__module__, existing.__qualname__) != (
                obj.__module__, obj.__qualname__):
            warnings.warn(f'{registry._name} registry already holds {name!r} from '
                          f'{existing.__module__}; perceive-ir keeps that one', stacklevel=3)
        return obj  # a second import of the same module registers nothing twice
    registry.register(obj)
    return obj


def _registrar(registry: Registry) -> Callable[[T], T]:
    return lambda obj: _register(registry, obj)


register_arch = _registrar(ARCH_REGISTRY)
register_dataset = _registrar(DATASET_REGISTRY)
register_loss = _registrar(LOSS_REGISTRY)
register_metric = _registrar(METRIC_REGISTRY)
register_model = _registrar(MODEL_REGISTRY)


def lookup(registry: Registry, name: str, option: str) -> Any:
    """registry[name], or a KeyError naming the option and the closest registered names."""
    if name in registry:
        return registry.get(name)
    names = sorted(registry.keys())
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f' Did you mean {", ".join(map(repr, close))}?' if close else ''
    raise KeyError(f'{option}: {name!r} is not in the {registry._name} registry.{hint} '
                   f'Registered: {", ".join(names)}')

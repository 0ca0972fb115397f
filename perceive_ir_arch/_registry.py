"""Registration into BasicSR's registries: idempotent, with "did you mean" lookups."""
from __future__ import annotations

import difflib
import functools
import inspect
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


def _checked_options(cls: type) -> type:
    """Make ``cls(**options)`` name an unknown option with the closest real ones.

    BasicSR builds networks and losses as ``cls(**block)``; Python's own error for a typo
    ("unexpected keyword argument") names neither the class's options nor a fix."""
    init = cls.__init__
    params = inspect.signature(init).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return cls
    known = [n for n in params if n != 'self']

    @functools.wraps(init)
    def checked(self, *args, **kwargs):
        unknown = [k for k in kwargs if k not in params]
        if unknown:
            hints = []
            for key in unknown:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hints.append(f'{key!r}' + (f' (did you mean {close[0]!r}?)' if close else ''))
            raise TypeError(f'{cls.__name__}: unknown option {", ".join(hints)}; '
                            f'its options are {", ".join(known)}')
        init(self, *args, **kwargs)

    cls.__init__ = checked
    return cls


def _registrar(registry: Registry, check: bool = False) -> Callable[[T], T]:
    return lambda obj: _register(registry, _checked_options(obj) if check else obj)


register_arch = _registrar(ARCH_REGISTRY, check=True)
register_dataset = _registrar(DATASET_REGISTRY)
register_loss = _registrar(LOSS_REGISTRY, check=True)
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

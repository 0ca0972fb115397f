"""Registration into BasicSR's registries: idempotent, with "did you mean" lookups.

Only the plugin's own classes are changed (their constructors check options,
``constructor_checks.py``, and record the ``network_g`` block that builds them again);
BasicSR's classes are left as they are: a network of theirs records its options when the
plugin builds it (``build_network``).
"""
from __future__ import annotations

import copy
import functools
import importlib
import inspect
import os
import warnings
from typing import Any, Callable, TypeVar

from basicsr.utils.registry import (ARCH_REGISTRY, DATASET_REGISTRY, LOSS_REGISTRY,
                                    METRIC_REGISTRY, MODEL_REGISTRY, Registry)

from .constructor_checks import checked_options
from .utils.suggest import did_you_mean

__all__ = ['register_arch', 'register_dataset', 'register_loss', 'register_metric',
           'register_model', 'lookup', 'build_network', 'check_types', 'import_modules', 'network_options',
           'record_options', 'remember_options']

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


def _plain(value: Any) -> Any:
    """Tuples as lists: recorded options read back as the YAML that built them."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def record_options(cls: type) -> type:
    """Make every instance of the network class ``cls`` remember the ``network_g`` block
    that builds it again (its type and every constructor argument, defaults included),
    for ``network_options``.  A subclass records its own type; classes whose constructor
    takes ``**kwargs`` record what they were given."""
    init = cls.__init__
    if getattr(init, '_records_options', False):
        return cls
    signature = inspect.signature(init)

    @functools.wraps(init)
    def recording(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if type(self) is cls:  # the outermost constructor of the instance records
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            options = {}
            for name, value in list(bound.arguments.items())[1:]:
                kind = signature.parameters[name].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    options.update(value)
                elif kind is not inspect.Parameter.VAR_POSITIONAL:
                    options[name] = value
            self._network_options = {'type': cls.__name__, **_plain(options)}

    recording._records_options = True
    cls.__init__ = recording
    return cls


def network_options(net: Any) -> dict:
    """The ``network_g`` block that builds ``net`` again (a copy), recorded when it was
    constructed (the plugin's networks) or built by ``build_network`` (any registered
    network); a TypeError for a network that records none."""
    options = vars(net).get('_network_options')
    if options is None:
        raise TypeError(f'{type(net).__name__} does not record its options (it was not built by '
                        'perceive_ir_arch.registry.build_network nor is it a perceive-ir network); '
                        'pass network_opt, the network_g block that built it')
    return dict(options)


def build_network(opt: dict, option: str = 'network_g') -> Any:
    """BasicSR's ``build_network`` for any registered network, with "did you mean" for a
    mistyped ``type``; the network remembers ``opt`` (``network_options``), so BasicSR's
    own networks pack into a restorer file like the plugin's."""
    opt = copy.deepcopy(dict(opt))
    kind = opt.pop('type', None)
    if kind is None:
        raise KeyError(f'{option}: no type (the registered name of the network)')
    return remember_options(lookup(ARCH_REGISTRY, kind, f'{option}.type')(**opt), {'type': kind, **opt})


def remember_options(net: Any, opt: dict) -> Any:
    """Make ``net`` (built from the ``network_g`` block ``opt`` by other code, e.g.
    BasicSR's model) remember that block, unless its class records its own."""
    if '_network_options' not in vars(net):
        net._network_options = _plain(dict(opt))
    return net


# option blocks that name a registered type: (where in the option dict, registry)
def _typed_blocks(opt: dict) -> list[tuple[str, Any, Registry]]:
    blocks = [('model_type', opt.get('model_type'), MODEL_REGISTRY)]
    blocks += [(f'{key}.type', opt[key].get('type'), ARCH_REGISTRY)
               for key in opt if key.startswith('network_') and isinstance(opt[key], dict)]
    for phase, dataset in (opt.get('datasets') or {}).items():
        if isinstance(dataset, dict):
            blocks.append((f'datasets.{phase}.type', dataset.get('type'), DATASET_REGISTRY))
    for key, block in (opt.get('train') or {}).items():
        if key.endswith('_opt') and isinstance(block, dict) and 'type' in block:
            blocks.append((f'train.{key}.type', block['type'], LOSS_REGISTRY))
    for name, block in ((opt.get('val') or {}).get('metrics') or {}).items():
        if isinstance(block, dict) and 'type' in block:
            blocks.append((f'val.metrics.{name}.type', block['type'], METRIC_REGISTRY))
    return [(where, kind, registry) for where, kind, registry in blocks if isinstance(kind, str)]


def check_types(opt: dict) -> None:
    """A KeyError with the closest registered names for the first type in ``opt`` (model,
    networks, datasets, losses, metrics) that no registry holds; before anything is built."""
    for where, kind, registry in _typed_blocks(opt):
        lookup(registry, kind, where)


def import_modules(package: str, folder: str, suffix: str) -> None:
    """Import every ``*<suffix>.py`` module of a package folder (BasicSR's convention), so
    a new module registers its classes without a second edit."""
    for name in sorted(os.listdir(folder)):
        if name.endswith(f'{suffix}.py') and not name.startswith('_'):
            importlib.import_module(f'{package}.{name[:-3]}')


def _registrar(registry: Registry, check: bool = False, record: bool = False) -> Callable[[T], T]:
    def register(obj):
        if check:
            obj = checked_options(obj)
        return _register(registry, record_options(obj) if record else obj)
    return register


register_arch = _registrar(ARCH_REGISTRY, check=True, record=True)
register_dataset = _registrar(DATASET_REGISTRY)
register_loss = _registrar(LOSS_REGISTRY, check=True)
register_metric = _registrar(METRIC_REGISTRY)
register_model = _registrar(MODEL_REGISTRY)


def lookup(registry: Registry, name: str, option: str) -> Any:
    """registry[name], or a KeyError naming the option and the closest registered names."""
    if name in registry:
        return registry.get(name)
    names = sorted(registry.keys())
    raise KeyError(f'{option}: {name!r} is not in the {registry._name} registry.'
                   f'{did_you_mean(name, names, n=3, cutoff=0.5, sentence=True)} '
                   f'Registered: {", ".join(names)}')

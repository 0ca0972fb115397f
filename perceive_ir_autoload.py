"""Start-up hook of the perceive-ir plugin (loaded by perceive_ir_autoload.pth).

Two jobs, both lazy so that a Python start-up that never imports basicsr pays nothing
but this module:

* when ``basicsr`` is imported (by anyone: BasicSR's own ``train.py``, a user script),
  import ``perceive_ir_arch`` right after it, so BasicSR's registries hold the plugin's
  types with no import written by the user;
* provide ``torchvision.transforms.functional_tensor``, which basicsr 1.4.2 imports and
  torchvision >= 0.17 no longer has, as an alias of its successor.

Set PERCEIVE_IR_NO_AUTOLOAD=1 to switch off the first job.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import warnings

_BASICSR = 'basicsr'
_OLD_TV = 'torchvision.transforms.functional_tensor'


class _AliasLoader(importlib.abc.Loader):
    """A new module holding the public names of ``target``."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module) -> None:
        source = importlib.import_module(self.target)
        module.__dict__.update((k, v) for k, v in vars(source).items() if not k.startswith('__'))


class _ThenImportPlugin(importlib.abc.Loader):
    """Runs basicsr's own loader, then imports the plugin."""

    def __init__(self, loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        try:
            importlib.import_module('perceive_ir_arch')
        except Exception as exc:  # never break basicsr because of the plugin
            warnings.warn(f'perceive-ir: the plugin failed to load ({type(exc).__name__}: {exc}); '
                          'its types are not registered in BasicSR', stacklevel=2)

    def __getattr__(self, name):  # get_data, get_filename, is_package, ...
        return getattr(self.loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == _OLD_TV:
            if importlib.machinery.PathFinder.find_spec(fullname, path) is not None:
                return None  # an old torchvision still has the real module
            target_name = 'torchvision.transforms._functional_tensor'
            if importlib.machinery.PathFinder.find_spec(target_name, path) is None:
                target_name = 'torchvision.transforms.functional'
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))
        if fullname == _BASICSR and os.environ.get('PERCEIVE_IR_NO_AUTOLOAD') != '1':
            spec = _spec_from_others(self, fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _ThenImportPlugin(spec.loader)
            return spec
        return None


def _spec_from_others(me, fullname, path, target):
    for finder in sys.meta_path:
        if finder is me or not hasattr(finder, 'find_spec'):
            continue
        spec = finder.find_spec(fullname, path, target)
        if spec is not None:
            return spec
    return None


def install() -> None:
    """Put the finder first on sys.meta_path (once)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


install()

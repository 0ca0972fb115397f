"""A registered class's constructor options, checked as BasicSR passes them (``cls(**block)``):
an unknown option gets the closest real ones, a value of the wrong type the type expected."""
from __future__ import annotations

import collections.abc
import functools
import inspect
import types
import typing
from typing import Any

from .utils.suggest import did_you_mean
from .utils.yaml_file import number_text_hint

__all__ = ['checked_options']


def _fits(value: Any, hint: Any) -> bool:
    """Whether an option value fits a constructor annotation (unknown kinds: yes)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, float):  # an int is a fine float; a bool is neither
        return isinstance(value, (int, float) if hint is float else int) and not isinstance(value, bool)
    if origin in (collections.abc.Sequence, list, tuple):
        return (isinstance(value, (list, tuple))
                and (not args or all(_fits(v, args[0]) for v in value)))
    if origin is dict:
        return isinstance(value, dict)
    if isinstance(hint, type) and hint.__module__ == 'builtins':
        return isinstance(value, hint)
    return True


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return ' or '.join(_describe(h) for h in args)
    if origin in (collections.abc.Sequence, list, tuple):
        return f'a list of {_describe(args[0])}' if args else 'a list'
    if hint is type(None):
        return '~ (null)'
    return getattr(hint, '__name__', None) or str(hint)


def _type_problem(cls: type, name: str, value: Any, hint: Any) -> str:
    what = f'{cls.__name__}: option {name!r} must be {_describe(hint)}, got {type(value).__name__} {value!r}'
    fix = number_text_hint(value)
    return f'{what} ({fix})' if fix else what


def checked_options(cls: type) -> type:
    """Make ``cls(**options)`` name an unknown option with the closest real ones, and an
    option of the wrong type with the type expected.

    BasicSR builds networks and losses as ``cls(**block)``; Python's own error for a typo
    ("unexpected keyword argument") names neither the class's options nor a fix, and a
    wrong type fails somewhere deep inside the constructor."""
    init = cls.__init__
    if getattr(init, '_checks_options', False):  # registered again: checked once is enough
        return cls
    params = inspect.signature(init).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return cls
    known = [n for n in params if n != 'self']
    try:
        types_ = typing.get_type_hints(init)
    except Exception:  # noqa: BLE001  (an annotation that cannot be resolved: no type checks)
        types_ = {}

    @functools.wraps(init)
    def checked(self, *args, **kwargs):
        unknown = [k for k in kwargs if k not in params]
        if unknown:
            hints = []
            for key in unknown:
                hints.append(f'{key!r}' + did_you_mean(key, known))
            raise TypeError(f'{cls.__name__}: unknown option {", ".join(hints)}; '
                            f'its options are {", ".join(known)}')
        for key, value in kwargs.items():
            if key in types_ and not _fits(value, types_[key]):
                raise TypeError(_type_problem(cls, key, value, types_[key]))
        init(self, *args, **kwargs)

    checked._checks_options = True
    cls.__init__ = checked
    return cls

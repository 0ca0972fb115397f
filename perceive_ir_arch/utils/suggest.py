"""One "did you mean" for every name a user can mistype (options, layouts, registries)."""
from __future__ import annotations

import difflib
from typing import Iterable

__all__ = ['did_you_mean']


def did_you_mean(name: str, choices: Iterable[str], n: int = 1, cutoff: float = 0.6,
                 sentence: bool = False) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` (up to ``n``), or ``''``;
    ``sentence``: ``" Did you mean 'x'?"``, for messages that end a sentence before it."""
    close = difflib.get_close_matches(str(name), sorted(choices), n=n, cutoff=cutoff)
    if not close:
        return ''
    names = ', '.join(map(repr, close))
    return f' Did you mean {names}?' if sentence else f' (did you mean {names}?)'

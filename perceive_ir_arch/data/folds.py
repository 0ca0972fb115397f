"""Which fold a training pair belongs to, for the stage-1 medium-tier restorers.

A pair's fold is ``crc32("<task>/<name>") % folds`` where ``name`` is the pair's path
relative to its folder, without extension, with '/' separators (e.g. ``rainy/rain-12``
-> name ``rain-12``).  It depends on nothing else (not the machine, the absolute path,
the file order or Python's hash seed), so every machine splits the data the same way.
"""
from __future__ import annotations

import zlib

__all__ = ['fold_of']


def fold_of(task: str, name: str, folds: int = 2) -> int:
    return zlib.crc32(f'{task}/{name}'.encode('utf-8')) % folds

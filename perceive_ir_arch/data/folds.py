"""Which fold a training pair belongs to, for the stage-1 medium-tier restorers.

A pair's fold is ``crc32("<task>/<scene>") % folds`` where ``scene`` names what the pair
shows: its clean image's path relative to the clean folder, without extension, with '/'
separators (RESIDE's hazy versions of one clean image share a scene; a GoPro sequence is
one scene, see ``layouts.Layout.scene``).  So a medium restorer never sees the scene it
renders.  It depends on nothing else (not the machine, the absolute path, the file order
or Python's hash seed), so every machine splits the data the same way.  (The authors'
release hashes the degraded file instead: RESIDE scenes then land in both folds.)
"""
from __future__ import annotations

import zlib

__all__ = ['fold_of']


def fold_of(task: str, name: str, folds: int = 2) -> int:
    return zlib.crc32(f'{task}/{name}'.encode('utf-8')) % folds

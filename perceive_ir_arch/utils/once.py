"""Messages said once per run, whichever process says them.

A dataset reports a bad file from inside a DataLoader worker; BasicSR's loaders start new
workers at every epoch, each with a fresh copy of the dataset, so a per-object "already
said" set forgets at each epoch.  ``Once`` keeps the fingerprints of what was said in
shared memory that every worker inherits.
"""
from __future__ import annotations

import multiprocessing
import zlib
from multiprocessing.context import get_spawning_popen
from typing import Any

__all__ = ['Once']


class Once:
    """``first(message)`` is True the first time any process of the run asks for ``message``."""

    def __init__(self, slots: int = 4096) -> None:
        self._slots = slots
        self._seen: Any = multiprocessing.Array('I', slots)  # crc32 | 1 of each message; 0: empty
        self._local: set[int] | None = None

    def first(self, message: str) -> bool:
        key = zlib.crc32(message.encode('utf-8')) | 1
        if self._local is not None:
            if key in self._local:
                return False
            self._local.add(key)
            return True
        with self._seen.get_lock():
            seen = self._seen.get_obj()
            i = key % self._slots
            for _ in range(self._slots):  # open addressing
                if seen[i] == key:
                    return False
                if seen[i] == 0:
                    seen[i] = key
                    return True
                i = (i + 1) % self._slots
        return True  # full: say it again rather than never

    def __getstate__(self) -> dict:
        # shared memory travels to the worker processes being started; any other copy
        # (a pickle, a deepcopy) keeps its own record
        if self._local is None and get_spawning_popen() is not None:
            return {'_slots': self._slots, '_seen': self._seen, '_local': None}
        return {'_slots': self._slots, '_seen': None, '_local': set(self._local or ())}

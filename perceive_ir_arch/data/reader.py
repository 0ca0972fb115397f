"""Reading a dataset's images, from folders or LMDB files, as BasicSR's FileClient does."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..utils.image_io import decode_image

__all__ = ['ImageReader']


class ImageReader:
    """``read(ref, db)``: an image as RGB floats in [0, 1] (``decode_image``), from the disk
    (``ref`` a path) or an LMDB file (``db``, ``ref`` its key); OSError naming it otherwise.
    The client opens lazily, in each DataLoader worker (LMDB handles must not cross a fork);
    ``close`` lets a worker open its own after the main process read."""

    def __init__(self, backend: str, dbs: Iterable[str] = (), **io_kwargs: Any) -> None:
        self.backend, self.dbs, self.io_kwargs = backend, sorted(set(dbs)), io_kwargs
        self._client = None

    def read(self, ref: str, db: str | None = None) -> np.ndarray:
        if self._client is None:
            from basicsr.utils import FileClient  # basicsr's data package: loaded once a sample is read

            self._client = (FileClient('lmdb', db_paths=self.dbs, client_keys=self.dbs, **self.io_kwargs)
                            if self.backend == 'lmdb' else FileClient('disk'))
        try:
            content = self._client.get(ref, db) if db else self._client.get(ref)
        except Exception as exc:  # noqa: BLE001  (FileClient raises what its backend raises)
            raise OSError(f'cannot read {ref!r}' + (f' from {db!r}' if db else '') + f': {exc}') from exc
        if content is None:
            raise OSError(f'key {ref!r} is not in {db!r}')
        return decode_image(bytes(content), f'{db}:{ref}' if db else ref)

    def close(self) -> None:
        self._client = None

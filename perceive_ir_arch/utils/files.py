"""Writing files so that a crash never leaves a half-written one under the final name."""
from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any, Iterator

import cv2
import numpy as np

__all__ = ['atomic_write_text', 'atomic_imwrite', 'atomic_torch_save', 'replacing']


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def replacing(path: str) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on any
    error (or interruption) remove it.  A reader never sees a partial file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', suffix='.tmp', dir=folder)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would make outputs private to us
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_text(path: str, text: str) -> None:
    with replacing(path) as tmp, open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)


def atomic_imwrite(path: str, img: np.ndarray) -> None:
    """cv2.imwrite (BGR / grey), encoded in memory, then written and renamed."""
    ext = os.path.splitext(path)[1] or '.png'
    ok, buf = cv2.imencode(ext, img)
    if not ok:
        raise OSError(f'cannot encode an image as {ext} for {path!r}')
    with replacing(path) as tmp, open(tmp, 'wb') as f:
        f.write(buf.tobytes())


def atomic_torch_save(obj: Any, path: str) -> None:
    """torch.save, atomically: a truncated state is never picked as the latest on resume."""
    import torch

    with replacing(path) as tmp:
        torch.save(obj, tmp)

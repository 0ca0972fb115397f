"""Writing files so that a crash never leaves a half-written one under the final name."""
from __future__ import annotations

import os
import tempfile

import cv2
import numpy as np

__all__ = ['atomic_write_text', 'atomic_imwrite']


def _tmp_beside(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', suffix='.tmp', dir=folder)
    os.close(fd)
    return tmp


def atomic_write_text(path: str, text: str) -> None:
    tmp = _tmp_beside(path)
    try:
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_imwrite(path: str, img: np.ndarray) -> None:
    """cv2.imwrite (BGR / grey), encoded in memory, then written and renamed."""
    ext = os.path.splitext(path)[1] or '.png'
    ok, buf = cv2.imencode(ext, img)
    if not ok:
        raise OSError(f'cannot encode an image as {ext} for {path!r}')
    tmp = _tmp_beside(path)
    try:
        with open(tmp, 'wb') as f:
            f.write(buf.tobytes())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise

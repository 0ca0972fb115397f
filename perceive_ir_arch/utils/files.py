"""Writing files so that a crash never leaves a half-written one under the final name."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from typing import Any, Iterator

import cv2
import numpy as np

from .errors import UserError

__all__ = ['SaveError', 'atomic_write_text', 'atomic_imwrite', 'atomic_torch_save', 'replacing']


class SaveError(UserError, OSError):
    """A file could not be written; nothing was left under its name (the message says why)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _free_bytes(folder: str) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _why(exc: BaseException, folder: str, needed: int, taken: int = 0) -> str:
    """Why a write failed, in the user's words: a full disk is named as such even when the
    writer (torch's zip writer) reports only "file write failed" / "unexpected pos"."""
    free = _free_bytes(folder)
    free = None if free is None else free + taken
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if full or (free is not None and free < needed + 2 ** 20):
        shown = '' if free is None else f' ({free / 2 ** 20:.1f} MiB free, about {needed / 2 ** 20:.1f} MiB needed)'
        return f'no space left on device in {folder}{shown}'
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


@contextlib.contextmanager
def replacing(path: str, needed: int = 0) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success flush it to disk and rename it to
    ``path``; on any error (or interruption) remove it.  A reader never sees a partial file.

    A failed write raises SaveError naming ``path`` and why (a full disk named as such;
    ``needed``: the bytes the write was expected to take, for that message)."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', suffix='.tmp', dir=folder)
    except OSError as exc:
        raise SaveError(f'cannot write {path}: {_why(exc, folder, needed)}') from exc
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would make outputs private to us
        try:
            yield tmp
            with open(tmp, 'rb+') as f:  # on disk before the rename: a power cut leaves old or new
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except (OSError, RuntimeError) as exc:  # torch's writer reports a full disk as RuntimeError
            if isinstance(exc, SaveError):
                raise
            # the space our temporary took is free again once it is removed (the writer may
            # still hold it open here, so it is counted rather than waited for)
            taken = os.path.getsize(tmp) if os.path.exists(tmp) else 0
            raise SaveError(f'cannot write {path}: {_why(exc, folder, needed, taken)}; '
                            'nothing was written under that name') from exc
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_text(path: str, text: str) -> None:
    with replacing(path, len(text)) as tmp, open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)


def atomic_imwrite(path: str, img: np.ndarray) -> None:
    """cv2.imwrite (BGR / grey), encoded in memory, then written and renamed."""
    ext = os.path.splitext(path)[1] or '.png'
    ok, buf = cv2.imencode(ext, img)
    if not ok:
        raise OSError(f'cannot encode an image as {ext} for {path!r}')
    with replacing(path, buf.nbytes) as tmp, open(tmp, 'wb') as f:
        f.write(buf.tobytes())


def _tensor_bytes(obj: Any) -> int:
    import torch

    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(_tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_tensor_bytes(v) for v in obj)
    return 0


def atomic_torch_save(obj: Any, path: str) -> None:
    """torch.save, atomically: the file under ``path`` is the previous one or the complete
    new one, never a truncated one (a kill, an error inside torch.save, a full disk).
    Raises SaveError naming the file and why."""
    import torch

    with replacing(path, _tensor_bytes(obj)) as tmp, open(tmp, 'wb') as f:
        torch.save(obj, f)  # a file object: the archive's folder is not named after the temporary

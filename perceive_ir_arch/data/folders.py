"""Finding images in folders on disk or in BasicSR LMDB files."""
from __future__ import annotations

import os

from ..utils.image_io import IMAGE_EXTENSIONS

__all__ = ['index_folder', 'lmdb_path_of']


def lmdb_path_of(folder: str) -> str:
    """BasicSR's convention: the LMDB copy of folder ``X`` is ``X.lmdb``."""
    folder = folder.rstrip('/')
    return folder if folder.endswith('.lmdb') else folder + '.lmdb'


def index_folder(folder: str, backend: str) -> dict[str, str]:
    """Map relative path without extension ('a/b') -> what the file client reads.

    disk: the file's path (recursive scan, sorted); lmdb: the key, from meta_info.txt.
    """
    if backend == 'lmdb':
        db = lmdb_path_of(folder)
        meta = os.path.join(db, 'meta_info.txt')
        if not os.path.isfile(meta):
            raise FileNotFoundError(f'LMDB {db!r} has no meta_info.txt; build it with '
                                    "basicsr.utils.lmdb_util.make_lmdb_from_imgs (see data/README.md)")
        with open(meta) as f:
            keys = [os.path.splitext(line.split(' ')[0])[0] for line in f if line.strip()]
        return {k: k for k in keys}
    if not os.path.isdir(folder):
        raise FileNotFoundError(f'folder {folder!r} does not exist')
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        for name in sorted(filenames):
            stem, ext = os.path.splitext(name)
            if ext.lower() not in IMAGE_EXTENSIONS:
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(os.path.join(dirpath, stem), folder).replace(os.sep, '/')
            if rel in found:
                raise ValueError(f'two images share the name {rel!r} in {folder!r}: '
                                 f'{found[rel]!r} and {path!r}; keep one')
            found[rel] = path
    return found

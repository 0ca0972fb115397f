"""Build BasicSR LMDB copies of image folders: folder X -> X.lmdb (keys: relative paths
without extension), the layout MixedDegradationDataset reads with ``io_backend: lmdb``.

    python -m perceive_ir_arch.data.make_lmdb datasets/Train/Derain/rainy datasets/Train/Derain/gt

Uses BasicSR's own writer (``basicsr.utils.lmdb_util.make_lmdb_from_imgs``): images are
stored losslessly as PNG, so LMDB and disk give the same pixels.
"""
from __future__ import annotations

import argparse
import os

from .folders import index_folder, lmdb_path_of

__all__ = ['make_lmdb']


def make_lmdb(folder: str, lmdb_path: str | None = None, compress_level: int = 1) -> str:
    """Write ``folder``'s images into ``lmdb_path`` (default ``folder.lmdb``); return it."""
    from basicsr.utils.lmdb_util import make_lmdb_from_imgs

    lmdb_path = lmdb_path or lmdb_path_of(folder)
    if os.path.exists(lmdb_path):
        raise FileExistsError(f'{lmdb_path!r} exists; remove it to rebuild')
    index = index_folder(folder, 'disk')
    if not index:
        raise ValueError(f'no images in {folder!r}')
    rel = [os.path.relpath(p, folder) for p in index.values()]
    make_lmdb_from_imgs(folder, lmdb_path, rel, list(index), compress_level=compress_level)
    return lmdb_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('folders', nargs='+', help='image folders; each becomes <folder>.lmdb')
    parser.add_argument('--compress-level', type=int, default=1, help='PNG compression 0-9')
    args = parser.parse_args(argv)
    for folder in args.folders:
        print(make_lmdb(folder, compress_level=args.compress_level))


if __name__ == '__main__':
    main()

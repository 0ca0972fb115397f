"""Finding and reading images on disk or in BasicSR LMDB files."""
from __future__ import annotations

import os

import cv2
import numpy as np

__all__ = ['IMAGE_EXTENSIONS', 'index_folder', 'lmdb_path_of', 'decode_native', 'decode_image']

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')


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


def decode_native(content: bytes, where: str) -> np.ndarray:
    """Bytes -> H x W grey, H x W x 3 RGB or H x W x 4 RGBA in the file's own dtype
    (uint8, uint16 or float32; CMYK and palettes come out RGB).  Raises OSError naming
    ``where`` when the bytes are not an image."""
    try:
        img = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_UNCHANGED) if content else None
    except cv2.error:  # some damaged files make a codec assert instead of returning None
        img = None
    if img is None or img.size == 0:
        raise OSError(f'{where!r} is not a readable image (empty, truncated or another format)')
    if img.dtype not in (np.uint8, np.uint16, np.float32):
        raise OSError(f'{where!r}: {img.dtype} pixels; expected 8- or 16-bit integers or float32')
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 3:
        if img.shape[2] not in (3, 4):
            raise OSError(f'{where!r} has {img.shape[2]} channels; expected 1, 3 or 4')
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB if img.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
    return img


def decode_image(content: bytes, where: str) -> np.ndarray:
    """Bytes -> RGB float32 H x W x 3 in [0, 1]; grey is expanded, alpha dropped,
    16-bit scaled.  Raises OSError naming ``where`` when the bytes are not an image."""
    img = decode_native(content, where)
    scale = 65535.0 if img.dtype == np.uint16 else 255.0 if img.dtype == np.uint8 else 1.0
    img = img.astype(np.float32) / scale
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.clip(img[..., :3], 0.0, 1.0)

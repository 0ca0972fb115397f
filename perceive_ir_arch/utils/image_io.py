"""Reading and writing images: decoding for the datasets, users' photos as they are
(grey, RGB or RGBA, 8 or 16 bit) for the command.

``read_photo`` returns RGB(A) / grey arrays in their own dtype with the EXIF orientation
applied; ``write_photo`` writes an array of that kind atomically, in the format the file
name says.  Restoration itself works on RGB floats (see ``perceive_ir_arch.inference.restorer``).
"""
from __future__ import annotations

import os
import stat
import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from .files import replacing

__all__ = ['IMAGE_EXTENSIONS', 'WRITABLE_EXTENSIONS', 'PhotoInfo', 'probe_photo', 'decode_native',
           'decode_image', 'read_photo', 'regular_file', 'write_photo', 'exif_orientation', 'apply_orientation']

# what a folder scan picks up, for datasets and the command alike
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')
# what an output can be written as (OpenCV has no GIF encoder)
WRITABLE_EXTENSIONS = IMAGE_EXTENSIONS
_SIXTEEN_BIT = ('.png', '.tif', '.tiff')
_ALPHA = ('.png', '.tif', '.tiff', '.webp')


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


def pixel_scale(dtype: np.dtype) -> float:
    """The value of white: 255 for uint8, 65535 for uint16, 1 for floats."""
    dtype = np.dtype(dtype)
    if dtype in (np.uint8, np.uint16):
        return float(np.iinfo(dtype).max)
    if dtype.kind == 'f':
        return 1.0
    raise ValueError(f'pixels of type {dtype}; expected uint8, uint16 or float')


def rgb_float(img: np.ndarray) -> np.ndarray:
    """The one conversion of an image array to what the networks read: H x W (grey) or
    H x W x 1 / 3 / 4 (alpha dropped), uint8, uint16 or float -> a new float32
    H x W x 3 array, white at 1.  ValueError for any other shape or dtype."""
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        raise ValueError(f'expected H x W, H x W x 3 or H x W x 4 pixels, got shape {img.shape}')
    scale = pixel_scale(img.dtype)
    plane = img.reshape(img.shape[:2] + (-1,))
    rgb = np.repeat(plane[..., :1], 3, axis=2) if plane.shape[2] == 1 else plane[..., :3]
    out = np.array(rgb, dtype=np.float32)  # a copy we own: scaled in place
    if scale != 1.0:
        out /= scale
    return out


def decode_image(content: bytes, where: str) -> np.ndarray:
    """Bytes -> RGB float32 H x W x 3 in [0, 1] (``rgb_float``, clipped).  Raises OSError
    naming ``where`` when the bytes are not an image."""
    return np.clip(rgb_float(decode_native(content, where)), 0.0, 1.0)


def exif_orientation(path: str) -> int:
    """The EXIF orientation tag (1-8) of a file, 1 when it has none or is unreadable."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            value = im.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001  (no EXIF is the common case, whatever the reason)
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """Turn stored pixels upright as EXIF ``orientation`` says (PIL's exif_transpose)."""
    ops = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }
    return np.ascontiguousarray(ops[orientation](img))


@dataclass(frozen=True)
class PhotoInfo:
    width: int
    height: int
    frames: int  # pages of a TIFF, frames of an animated GIF / WebP


def probe_photo(path: str) -> PhotoInfo | None:
    """Size and frame count from the file's header, without decoding its pixels (None when
    the header cannot be told: the decoder then has the last word)."""
    from PIL import Image

    with warnings.catch_warnings():  # the size is what is asked: PIL's bomb check is ours here
        warnings.simplefilter('ignore')
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            with Image.open(path) as im:
                return PhotoInfo(int(im.width), int(im.height), int(getattr(im, 'n_frames', 1) or 1))
        except Exception:  # noqa: BLE001  (a format or damage PIL cannot read: OpenCV decides)
            return None
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def regular_file(path: str) -> None:
    """OSError naming ``path`` unless it is a regular file: a named pipe, a device or a
    socket would block or never end when read."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise OSError(f'cannot read {path!r}: {exc.strerror or exc}') from None
    if not stat.S_ISREG(mode):
        kind = ('a folder' if stat.S_ISDIR(mode) else 'a named pipe' if stat.S_ISFIFO(mode)
                else 'a socket' if stat.S_ISSOCK(mode) else 'a device')
        raise OSError(f'{path!r} is {kind}, not a regular file')


def read_photo(path: str, max_pixels: int | None = None) -> np.ndarray:
    """H x W (grey), H x W x 3 (RGB) or H x W x 4 (RGBA), uint8 / uint16 / float32, upright.

    Raises OSError naming the file when it is not a regular file, holds several frames
    (an animation, a multi-page TIFF), has more than ``max_pixels`` pixels (checked from
    its header, before decoding), cannot be read as an image, or has NaN or infinite pixels.
    """
    regular_file(path)
    info = probe_photo(path)
    if info is not None and info.frames > 1:
        raise OSError(f'{path!r} holds {info.frames} frames (an animation or a multi-page file); only '
                      'single images are restored: save the frames as separate files first')
    if info is not None and max_pixels and info.width * info.height > max_pixels:
        raise OSError(f'{path!r} is {info.width} x {info.height} = {info.width * info.height / 1e6:.0f} MP, '
                      f'above the {max_pixels / 1e6:.0f} MP limit (--max-pixels); raise it to restore it')
    try:
        with open(path, 'rb') as f:
            content = f.read()
    except OSError as exc:
        raise OSError(f'cannot read {path!r}: {exc.strerror or exc}') from None
    img = decode_native(content, path)
    if img.dtype.kind == 'f' and not np.isfinite(img).all():
        bad = int(img.size - np.isfinite(img).sum())
        raise OSError(f'{path!r} has {bad} NaN or infinite pixel values; replace them before restoring')
    return apply_orientation(img, exif_orientation(path))


def write_photo(path: str, img: np.ndarray, jpeg_quality: int = 95) -> None:
    """Write a ``read_photo``-style array; the extension picks the format.

    16-bit arrays need PNG or TIFF and alpha needs PNG, TIFF or WebP: anything else is an
    error rather than a silent loss.  The file appears complete or not at all.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext not in WRITABLE_EXTENSIONS:
        raise ValueError(f'{path!r}: {ext or "no extension"} cannot be written; '
                         f'use one of {", ".join(WRITABLE_EXTENSIONS)}')
    if img.dtype == np.uint16 and ext not in _SIXTEEN_BIT:
        raise ValueError(f'{path!r}: 16-bit output needs {", ".join(_SIXTEEN_BIT)}')
    if img.ndim == 3 and img.shape[2] == 4 and ext not in _ALPHA:
        raise ValueError(f'{path!r}: an alpha channel needs {", ".join(_ALPHA)}')
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR if img.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    params = []
    if ext in ('.jpg', '.jpeg'):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]
    elif ext == '.webp':
        params = [cv2.IMWRITE_WEBP_QUALITY, 101]  # lossless: the restorer's output as it is
    ok, buf = cv2.imencode(ext or '.png', img, params)
    if not ok:
        raise OSError(f'cannot encode {img.shape} {img.dtype} pixels as {ext} for {path!r}')
    with replacing(path) as tmp, open(tmp, 'wb') as f:
        f.write(buf.tobytes())

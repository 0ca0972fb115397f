"""The image readers of the dataset and of the command line under a property-based fuzzer:
whatever the bytes, either an image comes back or one OSError that names the file."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

hypothesis = pytest.importorskip('hypothesis')
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from perceive_ir_arch.utils.image_io import decode_image, read_photo  # noqa: E402

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid(ext: str) -> bytes:
    img = (np.arange(12 * 16 * 3).reshape(12, 16, 3) % 251).astype(np.uint8)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


SEEDS = {ext: _valid(ext) for ext in ('.png', '.jpg', '.bmp', '.tiff', '.webp')}


@st.composite
def damaged(draw) -> bytes:
    """A valid file of some format, truncated, with bytes flipped, or random bytes."""
    kind = draw(st.sampled_from(['random', 'truncate', 'flip']))
    if kind == 'random':
        return draw(st.binary(min_size=0, max_size=256))
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    if kind == 'truncate':
        return bytes(data[:draw(st.integers(0, len(data)))])
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    return bytes(data)


def _check_image(img: np.ndarray) -> None:
    assert img.ndim in (2, 3) and img.shape[0] > 0 and img.shape[1] > 0
    if img.ndim == 3:
        assert img.shape[2] in (3, 4)


@FUZZ
@given(data=damaged())
def test_dataset_decoder_returns_rgb_floats_or_names_the_file(data):
    try:
        img = decode_image(data, 'fuzz/sample.png')
    except OSError as exc:
        assert 'fuzz/sample.png' in str(exc)
        return
    assert img.dtype == np.float32 and img.ndim == 3 and img.shape[2] == 3
    assert np.isfinite(img).all() and img.min() >= 0 and img.max() <= 1


@FUZZ
@given(data=damaged(), ext=st.sampled_from(['.png', '.jpg', '.tif', '.webp', '.bmp', '.txt']))
def test_cli_reader_returns_an_image_or_names_the_file(tmp_path, data, ext):
    path = tmp_path / f'sample{ext}'
    path.write_bytes(data)
    try:
        img = read_photo(str(path))
    except OSError as exc:
        assert str(path) in str(exc)
        return
    _check_image(img)
    assert img.dtype in (np.uint8, np.uint16, np.float32)

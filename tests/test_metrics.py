"""Metrics against scikit-image, the peers' reference implementation."""
from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from perceive_ir_arch.metrics import calculate_ssim_skimage, ssim_uniform


@pytest.mark.parametrize('shape,noise', [((40, 52, 3), 0.05), ((64, 64, 3), 0.2), ((23, 31), 0.1)])
def test_ssim_equals_scikit_image(shape, noise):
    rng = np.random.default_rng(0)
    a = rng.random(shape)
    b = np.clip(a + noise * rng.standard_normal(shape), 0, 1)
    ref = structural_similarity(a, b, data_range=1, channel_axis=-1 if len(shape) == 3 else None)
    assert ssim_uniform(a, b) == pytest.approx(ref, abs=1e-10)


def test_basicsr_metric_entry_on_uint8_bgr_images():
    from basicsr.metrics import calculate_metric

    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    ref = structural_similarity(a[..., ::-1] / 255.0, b[..., ::-1] / 255.0, data_range=1, channel_axis=-1)
    got = calculate_metric({'img': a, 'img2': b}, {'type': 'calculate_ssim_skimage'})
    assert got == pytest.approx(ref, abs=1e-10) and got == calculate_ssim_skimage(a, b)
    # BasicSR's PSNR with crop_border 0 is already the peers' PSNR
    psnr = calculate_metric({'img': a, 'img2': b}, {'type': 'calculate_psnr', 'crop_border': 0,
                                                    'test_y_channel': False})
    assert psnr == pytest.approx(peak_signal_noise_ratio(a / 255.0, b / 255.0, data_range=1), abs=1e-9)


def test_identical_images_have_ssim_one_and_errors_are_named():
    a = np.random.default_rng(2).random((16, 16, 3))
    assert ssim_uniform(a, a) == pytest.approx(1.0)
    with pytest.raises(ValueError, match='shape'):
        ssim_uniform(a, a[:8])
    with pytest.raises(ValueError, match='at least 7x7'):
        ssim_uniform(a[:5, :5], a[:5, :5])

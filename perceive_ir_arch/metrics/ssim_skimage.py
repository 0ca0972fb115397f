"""SSIM as the all-in-one peers compute it (scikit-image's defaults), for BasicSR.

PromptIR and AirNet report ``skimage.metrics.structural_similarity(x, y, data_range=1,
channel_axis=-1)``: a uniform 7x7 window, sample covariance, K1 = 0.01, K2 = 0.03, the
map averaged without its 3-pixel border, then over the RGB channels.  BasicSR's own
``calculate_ssim`` uses an 11x11 Gaussian window and gives other numbers; its
``calculate_psnr`` with ``crop_border: 0`` already equals the peers' PSNR.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..registry import register_metric

__all__ = ['calculate_ssim_skimage', 'ssim_uniform']


def _to_unit_float(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return img.astype(np.float64) / 255.0
    if img.dtype == np.uint16:
        return img.astype(np.float64) / 65535.0
    return img.astype(np.float64)


def ssim_uniform(x: np.ndarray, y: np.ndarray, win: int = 7, k1: float = 0.01,
                 k2: float = 0.03) -> float:
    """Mean SSIM of two H x W (x C) float images in [0, 1], uniform window."""
    if x.shape != y.shape:
        raise ValueError(f'images differ in shape: {x.shape} vs {y.shape}')
    if min(x.shape[:2]) < win:
        raise ValueError(f'SSIM needs images of at least {win}x{win}, got {x.shape[1]}x{x.shape[0]}')
    if x.ndim == 3:
        return float(np.mean([ssim_uniform(x[..., c], y[..., c], win, k1, k2)
                              for c in range(x.shape[2])]))
    mean = lambda a: cv2.blur(a, (win, win), borderType=cv2.BORDER_REFLECT)  # noqa: E731
    mx, my = mean(x), mean(y)
    n = win * win
    unbias = n / (n - 1.0)
    vx = unbias * (mean(x * x) - mx * mx)
    vy = unbias * (mean(y * y) - my * my)
    vxy = unbias * (mean(x * y) - mx * my)
    c1, c2 = k1 ** 2, k2 ** 2
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    p = (win - 1) // 2  # the border where the window leaves the image is not counted
    return float(s[p:-p, p:-p].mean())


@register_metric
def calculate_ssim_skimage(img: np.ndarray, img2: np.ndarray, **kwargs) -> float:
    """BasicSR metric entry: images as BasicSR passes them (H x W x C, uint8 or float in
    [0, 1]; channel order does not matter for the channel mean)."""
    return ssim_uniform(_to_unit_float(img), _to_unit_float(img2))

"""Degradations made on the fly from clean images, seeded.

All functions take and return RGB float32 H x W x 3 arrays in [0, 1] and draw every
random number from the ``numpy.random.Generator`` they are given, so a seed fixes the
result.  Outputs are clipped and rounded to 8-bit levels, as a saved degraded photo is.

Gaussian noise follows the all-in-one peers (PromptIR, AirNet); rain, haze, motion blur
and low light are simple physical models used for the bundled demo photos, not
replacements for Rain100L, RESIDE, GoPro or LOL.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

__all__ = ['add_gaussian_noise', 'synthesize_rain', 'synthesize_haze', 'synthesize_motion_blur',
           'synthesize_low_light', 'SYNTHESIZERS', 'quantize']


def quantize(img: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and round to the nearest 8-bit level."""
    return (np.round(np.clip(img, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


def add_gaussian_noise(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Additive white Gaussian noise of standard deviation sigma (on the 0-255 scale)."""
    return quantize(img + rng.standard_normal(img.shape, dtype=np.float32) * (sigma / 255.0))


def _line_kernel(length: int, angle_deg: float) -> np.ndarray:
    """A normalised anti-aliased line of ``length`` pixels through the kernel centre."""
    size = length if length % 2 else length + 1
    canvas = np.zeros((size, size), np.uint8)
    c = (size - 1) / 2.0
    dx, dy = np.cos(np.deg2rad(angle_deg)), np.sin(np.deg2rad(angle_deg))
    half = (length - 1) / 2.0
    shift = 4  # fixed-point sub-pixel coordinates for cv2.line
    p0 = (int(round((c - dx * half) * 2 ** shift)), int(round((c - dy * half) * 2 ** shift)))
    p1 = (int(round((c + dx * half) * 2 ** shift)), int(round((c + dy * half) * 2 ** shift)))
    cv2.line(canvas, p0, p1, 255, 1, cv2.LINE_AA, shift)
    kernel = canvas.astype(np.float32)
    return kernel / kernel.sum()


def synthesize_rain(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light rain (Rain100L-like): sparse drops smeared into slanted bright streaks."""
    h, w = img.shape[:2]
    drops = np.zeros((h, w), np.float32)
    n = int(rng.uniform(0.004, 0.012) * h * w)
    drops[rng.integers(0, h, n), rng.integers(0, w, n)] = rng.uniform(0.5, 1.0, n)
    length = max(5, int(rng.uniform(0.06, 0.14) * min(h, w)))
    streaks = cv2.filter2D(drops, -1, _line_kernel(length, 90.0 + rng.uniform(-25, 25)),
                           borderType=cv2.BORDER_REFLECT)
    streaks = cv2.GaussianBlur(streaks, (3, 3), 0.6)
    streaks /= max(float(streaks.max()), 1e-6)
    return quantize(img + rng.uniform(0.5, 0.85) * streaks[..., None])


def synthesize_haze(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Atmospheric scattering I = J t + A (1 - t), t = exp(-beta d).

    The depth proxy d grows towards the top of the frame and in bright, smooth regions
    (sky), which is where distance usually is in an outdoor photo.
    """
    h, w = img.shape[:2]
    vertical = np.linspace(1.0, 0.0, h, dtype=np.float32)[:, None].repeat(w, axis=1)
    luma = img @ np.array([0.299, 0.587, 0.114], np.float32)
    smooth = cv2.GaussianBlur(luma, (0, 0), max(h, w) / 8.0)
    depth = 0.7 * vertical + 0.3 * smooth
    depth = (depth - depth.min()) / max(float(np.ptp(depth)), 1e-6)
    t = np.exp(-rng.uniform(0.5, 1.3) * (0.2 + depth))[..., None]
    airlight = rng.uniform(0.75, 1.0) + rng.uniform(-0.03, 0.03, 3).astype(np.float32)
    return quantize(img * t + airlight * (1.0 - t))


def synthesize_motion_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uniform linear camera motion: a line kernel at a random angle.

    The length (1.5-4% of the short side, 5-20 px on the bundled photos) is kept within
    what a demo-sized network sees in a 48-pixel training crop; GoPro's real blur is longer.
    """
    length = max(3, int(rng.uniform(0.015, 0.04) * min(img.shape[:2])))
    kernel = _line_kernel(length, rng.uniform(0.0, 180.0))
    return quantize(cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT))


def synthesize_low_light(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Under-exposure (LOL-like): gamma darkening, gain, and sensor noise."""
    dark = rng.uniform(0.08, 0.25) * np.power(img, rng.uniform(1.4, 2.4))
    noise = rng.standard_normal(img.shape, dtype=np.float32) * rng.uniform(0.003, 0.012)
    return quantize(dark + noise)


# task -> synthesizer for clean-only sources; denoise takes a sigma (see the dataset)
SYNTHESIZERS: dict[str, Callable[..., np.ndarray]] = {
    'denoise': add_gaussian_noise,
    'derain': synthesize_rain,
    'dehaze': synthesize_haze,
    'deblur': synthesize_motion_blur,
    'lowlight': synthesize_low_light,
}

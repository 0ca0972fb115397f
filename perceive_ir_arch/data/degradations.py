"""Degradations made on the fly from clean images, seeded, calibrated to benchmarks.

All functions take and return RGB float32 H x W x 3 arrays in [0, 1] and draw every
random number from the ``numpy.random.Generator`` they are given, so a seed fixes the
result.  Outputs are clipped and rounded to 8-bit levels, as a saved degraded photo is.

Gaussian noise follows the all-in-one peers (PromptIR, AirNet).  Rain, haze, motion blur
and low light are physical models whose strengths were set so that the bundled photos,
degraded, sit where the inputs of the benchmark each stands in for sit (Rain100L, SOTS
outdoor, GoPro, LOL): ``calibration.py`` holds those targets and their sources and
measures the synthesis against them.  They are no replacement for the datasets.
"""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ['add_gaussian_noise', 'synthesize_rain', 'synthesize_haze', 'synthesize_motion_blur',
           'synthesize_low_light', 'quantize']

# sRGB-like display gamma: light adds and scales linearly before it, not after
_GAMMA = 2.2


def quantize(img: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and round to the nearest 8-bit level."""
    return (np.round(np.clip(img, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


def add_gaussian_noise(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Additive white Gaussian noise of standard deviation sigma (on the 0-255 scale)."""
    return quantize(img + rng.standard_normal(img.shape, dtype=np.float32) * (sigma / 255.0))


def _path_kernel(points: np.ndarray) -> np.ndarray:
    """A normalised kernel tracing the polyline ``points`` (x, y pixels, centred on 0),
    anti-aliased, every segment weighted by its length (constant speed)."""
    half = int(np.ceil(np.abs(points).max())) + 1
    size = 2 * half + 1
    canvas = np.zeros((size, size), np.float32)
    shift = 4  # fixed-point sub-pixel coordinates for cv2.line
    fixed = np.round((points + half) * 2 ** shift).astype(np.int64)
    for p0, p1 in zip(fixed[:-1], fixed[1:]):
        layer = np.zeros_like(canvas)
        cv2.line(layer, (int(p0[0]), int(p0[1])), (int(p1[0]), int(p1[1])), 1.0, 1, cv2.LINE_AA, shift)
        if layer.sum() > 0:
            canvas += layer / layer.sum() * float(np.hypot(*(p1 - p0)) + 1e-6)
    if canvas.sum() == 0:
        canvas[half, half] = 1.0
    return canvas / canvas.sum()


def _line_kernel(length: float, angle_deg: float) -> np.ndarray:
    """A straight streak of ``length`` pixels through the centre."""
    d = np.array([np.cos(np.deg2rad(angle_deg)), np.sin(np.deg2rad(angle_deg))]) * (length - 1) / 2
    return _path_kernel(np.stack([-d, d]))


def synthesize_rain(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light rain (Rain100L-like): sparse drops smeared into bright streaks, one direction
    per image (within 20 degrees of vertical), screen-blended so that a streak brightens
    what is behind it and never clips a bright background harder than light would."""
    h, w = img.shape[:2]
    drops = np.zeros((h, w), np.float32)
    n = int(rng.uniform(0.004, 0.01) * h * w)
    drops[rng.integers(0, h, n), rng.integers(0, w, n)] = rng.uniform(0.6, 1.0, n)
    length = max(5.0, rng.uniform(0.05, 0.12) * min(h, w))
    streaks = cv2.filter2D(drops, -1, _line_kernel(length, 90.0 + rng.uniform(-20, 20)),
                           borderType=cv2.BORDER_REFLECT)
    streaks = cv2.GaussianBlur(streaks, (3, 3), 0.6)
    streaks = rng.uniform(0.5, 0.8) * streaks / max(float(streaks.max()), 1e-6)
    return quantize(1.0 - (1.0 - img) * (1.0 - streaks[..., None]))


def synthesize_haze(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Atmospheric scattering I = J t + A (1 - t), t = exp(-beta d), as RESIDE's OTS/SOTS
    outdoor sets are made: A in [0.8, 1.0], grey; beta in [0.04, 0.2].

    RESIDE takes d from an estimated depth map; here a proxy grows towards the top of
    the frame and in bright, smooth regions (sky), where distance usually is in an
    outdoor photo.  Its scale (0.5 to 3.5) is the calibration: with RESIDE's A and beta
    it puts the photos where SOTS outdoor's hazy inputs are (``calibration.py``).
    """
    h, w = img.shape[:2]
    vertical = np.linspace(1.0, 0.0, h, dtype=np.float32)[:, None].repeat(w, axis=1)
    luma = img @ np.array([0.299, 0.587, 0.114], np.float32)
    smooth = cv2.GaussianBlur(luma, (0, 0), max(h, w) / 8.0)
    depth = 0.7 * vertical + 0.3 * smooth
    depth = 0.5 + 3.0 * (depth - depth.min()) / max(float(np.ptp(depth)), 1e-6)
    t = np.exp(-rng.uniform(0.04, 0.2) * depth)[..., None]
    return quantize(img * t + rng.uniform(0.8, 1.0) * (1.0 - t))


def _shake_path(length: float, rng: np.random.Generator, points: int = 16) -> np.ndarray:
    """A camera-shake trajectory of about ``length`` pixels: a direction that turns
    smoothly (up to 60 degrees over the exposure), centred on the origin."""
    turn = np.deg2rad(rng.uniform(-60, 60))
    angles = rng.uniform(0, 2 * np.pi) + turn * np.linspace(0.0, 1.0, points - 1) ** 2
    steps = np.stack([np.cos(angles), np.sin(angles)], 1) * (length / (points - 1))
    path = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, 0)])
    return path - path.mean(0)


def synthesize_motion_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Camera shake during the exposure (GoPro-like): the frame averaged along a smoothly
    turning trajectory whose length is 2.5-6% of the short side (GoPro's 720-pixel frames
    average 7-13 frames of a hand-held 240 fps camera), in linear light."""
    kernel = _path_kernel(_shake_path(rng.uniform(0.025, 0.06) * min(img.shape[:2]), rng))
    linear = np.power(img, _GAMMA)
    blurred = cv2.filter2D(linear, -1, kernel, borderType=cv2.BORDER_REFLECT)
    return quantize(np.power(np.clip(blurred, 0.0, 1.0), 1.0 / _GAMMA))


def synthesize_low_light(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Under-exposure (LOL-like): in linear light the exposure cut to 1-4% with
    signal-dependent shot noise and read noise, then the camera's gamma."""
    linear = np.power(img, _GAMMA) * rng.uniform(0.01, 0.04)
    shot = rng.standard_normal(img.shape, dtype=np.float32) * np.sqrt(linear * rng.uniform(2e-4, 6e-4))
    read = rng.standard_normal(img.shape, dtype=np.float32) * rng.uniform(1e-4, 4e-4)
    return quantize(np.power(np.clip(linear + shot + read, 0.0, 1.0), 1.0 / _GAMMA))


"""Published Perceive-IR results (PSNR dB, SSIM), the quality targets (docs/method.md section 5).

Keyed by the dataset names that options/test.yml and options/test_5task.yml use, so the
test table can show the paper's number beside ours.
"""
from __future__ import annotations

__all__ = ['PUBLISHED_RESULTS']

PUBLISHED_RESULTS: dict[str, dict[str, tuple[float, float]]] = {
    '3task': {
        'CBSD68_sigma15': (34.13, 0.934),
        'CBSD68_sigma25': (31.53, 0.890),
        'CBSD68_sigma50': (28.31, 0.804),
        'SOTS_outdoor': (30.87, 0.975),
        'Rain100L': (38.29, 0.980),
    },
    '5task': {
        'SOTS_outdoor': (28.19, 0.964),
        'Rain100L': (37.25, 0.977),
        'CBSD68_sigma25': (31.44, 0.887),
        'GoPro': (29.46, 0.886),
        'LOL': (22.88, 0.833),
    },
}

"""Regenerate docs/restore_demo.jpg from a finished `make demo` (run from the repository root).

    python docs/make_restore_figure.py

Top row: the held-out photo as the demo test degrades it (sigma-25 noise, rain, haze,
motion blur, low light); bottom row: the same restored by `perceive-ir restore` with the
demo model (results/demo_restored/), each shown 1.5x.
"""
import glob
import os
import sys

import cv2
import numpy as np

TAGS = ('denoise25', 'derain', 'dehaze', 'deblur', 'lowlight')  # how the demo names each degradation


def _one(pattern: str) -> np.ndarray:
    found = sorted(glob.glob(pattern, recursive=True))
    if not found:
        sys.exit(f'no file matches {pattern}: run `make demo` first')
    img = cv2.imread(found[0], cv2.IMREAD_COLOR)
    return cv2.resize(img, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC)


def main() -> None:
    top, bottom = [], []
    for tag in TAGS:
        top.append(_one(f'results/demo_perceive_ir/visualization/*/*_{tag}_input.png'))
        bottom.append(_one(f'results/demo_restored/*_{tag}_input_restored.png'))
    gap = np.full((top[0].shape[0], 6, 3), 255, np.uint8)
    line = lambda imgs: np.concatenate(sum(([im, gap] for im in imgs), [])[:-1], axis=1)  # noqa: E731
    sheet = np.concatenate([line(top), np.full((6, line(top).shape[1], 3), 255, np.uint8), line(bottom)])
    out = 'docs/restore_demo.jpg'
    tmp = out + '.tmp.jpg'
    cv2.imwrite(tmp, sheet, [cv2.IMWRITE_JPEG_QUALITY, 88])
    os.replace(tmp, out)
    print(out, sheet.shape[1], 'x', sheet.shape[0])


if __name__ == '__main__':
    main()

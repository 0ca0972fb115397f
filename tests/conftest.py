"""Shared fixtures: tiny networks, tiny image folders, option files, subprocess runs."""
from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import yaml

os.environ.setdefault('HF_HUB_OFFLINE', '1')  # nothing may reach a model hub in tests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(REPO, 'data', 'samples')

# a PerceiveIR of the default shape family, small enough for CPU tests
TINY = dict(dim=4, num_blocks=[1, 1, 1, 1], num_refinement_blocks=1, heads=[1, 1, 2, 2],
            degradation_dim=8, semantic_encoder='dinov2_tiny', semantic_pretrained=None)


def write_image(path: str, img: np.ndarray) -> str:
    """Write an RGB(A) / grey uint8 or uint16 image with OpenCV (which wants BGR(A))."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    out = img if img.ndim == 2 else img[..., [2, 1, 0, 3][:img.shape[2]]]
    assert cv2.imwrite(path, np.ascontiguousarray(out)), path
    return path


def random_image(h: int, w: int, seed: int) -> np.ndarray:
    """A smooth random RGB uint8 image (natural-ish: low frequencies dominate)."""
    rng = np.random.default_rng(seed)
    small = rng.random((max(h // 8, 2), max(w // 8, 2), 3)).astype(np.float32)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def write_yaml(path: str, opt: dict) -> str:
    with open(path, 'w') as f:
        yaml.safe_dump(opt, f, sort_keys=False)
    return path


def run_python(args: list[str], cwd: str, timeout: int = 300, env: dict | None = None,
               check: bool = True) -> subprocess.CompletedProcess:
    """Run ``python <args>`` in a fresh interpreter (as a user would)."""
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full_env)
    if check and proc.returncode != 0:
        raise AssertionError(f'python {" ".join(args)} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}')
    return proc


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    """Every place the lookup rule searches, empty: a weights folder, HOME (~/.cache/clip),
    the Hugging Face hub cache and torch hub's folder, all under tmp_path."""
    places = {'PERCEIVE_IR_WEIGHTS': tmp_path / 'weights', 'HOME': tmp_path / 'home',
              'HF_HUB_CACHE': tmp_path / 'hf' / 'hub', 'TORCH_HOME': tmp_path / 'torch'}
    for var, path in places.items():
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(path))
    for var in ('HF_HOME', 'HUGGINGFACE_HUB_CACHE', 'XDG_CACHE_HOME'):
        monkeypatch.delenv(var, raising=False)
    return places


@pytest.fixture
def tiny_opt() -> dict:
    return dict(TINY)


@pytest.fixture
def clean_dir(tmp_path):
    """Three small smooth RGB photos in a folder (a clean-image source)."""
    for i in range(3):
        write_image(str(tmp_path / 'clean' / f'img{i}.png'), random_image(48, 56, i))
    return str(tmp_path / 'clean')

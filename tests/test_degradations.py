"""The synthetic degradations: seeded, physically sensible, calibrated to the benchmarks."""
from __future__ import annotations

import glob
import os

import cv2
import numpy as np
import pytest

from perceive_ir_arch.data import TASK_TABLE, TASKS
from perceive_ir_arch.data.calibration import BENCHMARK_INPUTS, PSNR_BAND, SSIM_BAND, main, measure
from perceive_ir_arch.data.degradations import _line_kernel, _path_kernel, _shake_path
from perceive_ir_arch.data.tasks import task_named
from tests.conftest import SAMPLES, random_image


def _photos() -> dict[str, np.ndarray]:
    return {os.path.basename(p): cv2.imread(p)[..., ::-1].astype(np.float32) / 255
            for p in sorted(glob.glob(os.path.join(SAMPLES, '*', '*.png')))}


@pytest.mark.parametrize('task', TASKS)
def test_every_synthesis_is_seeded_and_saved_as_8_bit(task):
    clean = random_image(64, 80, 3).astype(np.float32) / 255
    spec = task_named(task, 'task')
    level = spec.levels[0] if spec.levels else None
    a = spec.degrade(clean, np.random.default_rng(7), level)
    b = spec.degrade(clean, np.random.default_rng(7), level)
    c = spec.degrade(clean, np.random.default_rng(8), level)
    assert a.shape == clean.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(np.round(a * 255) / 255, a)  # on 8-bit levels, in [0, 1]
    assert a.min() >= 0 and a.max() <= 1


def test_the_task_table_orders_the_labels_and_every_benchmark_is_a_task():
    assert TASKS == ('denoise', 'derain', 'dehaze', 'deblur', 'lowlight')  # saved task_ids rely on it
    assert [t.name for t in TASK_TABLE] == list(TASKS)
    assert set(BENCHMARK_INPUTS) == set(TASKS) - {'denoise'}  # noise: the benchmarks' own sigmas
    with pytest.raises(ValueError, match=r"sources\[0\].task: 'deblurr' is not one of .*did you mean 'deblur'"):
        task_named('deblurr', 'sources[0].task')


def test_rain_only_brightens_and_haze_lies_between_the_scene_and_the_airlight():
    clean = random_image(96, 96, 1).astype(np.float32) / 255
    rng = np.random.default_rng(0)
    rain = task_named('derain', 't').degrade(clean, rng)
    assert (rain >= clean - 0.5 / 255).all() and (rain > clean + 0.05).mean() > 0.005
    hazy = task_named('dehaze', 't').degrade(clean, rng)
    # I = J t + A (1 - t) with A >= 0.8: haze lifts dark pixels and shrinks the contrast
    assert hazy.min() > clean.min() and hazy.std() < clean.std()
    assert (hazy >= np.minimum(clean, 0.8) - 1 / 255).all()


def test_motion_kernels_conserve_light_and_follow_the_motion():
    k = _line_kernel(9, 0.0)
    assert abs(k.sum() - 1) < 1e-6
    ys, xs = np.nonzero(k > 1e-3)
    assert np.ptp(xs) >= 7 and np.ptp(ys) <= 2  # horizontal streak of 9 px
    path = _shake_path(20.0, np.random.default_rng(0))
    assert abs(np.linalg.norm(np.diff(path, axis=0), axis=1).sum() - 20.0) < 1e-6
    kernel = _path_kernel(path)
    assert abs(kernel.sum() - 1) < 1e-6 and (kernel >= 0).all()
    flat = np.full((32, 32, 3), 0.5, np.float32)  # a flat image stays flat (no energy lost)
    blurred = task_named('deblur', 't').degrade(flat, np.random.default_rng(0))
    assert np.abs(blurred - 0.5).max() <= 1 / 255


def test_low_light_cuts_the_exposure_in_linear_light_and_the_dark_parts_are_noisiest():
    ramp = np.repeat(np.linspace(0.2, 1.0, 200, dtype=np.float32)[None, :, None], 400, axis=0).repeat(3, 2)
    dark = task_named('lowlight', 't').degrade(ramp, np.random.default_rng(0))
    gain = (dark.astype(np.float64) ** 2.2).mean() / (ramp.astype(np.float64) ** 2.2).mean()
    assert 0.005 < gain < 0.06  # exposure 1-4% (noise and 8-bit levels blur the edges)
    linear = dark.astype(np.float64) ** 2.2
    snr = linear.mean(axis=0) / linear.std(axis=0).clip(1e-9)
    assert snr[:40].mean() < snr[-40:].mean()  # shot noise: SNR grows with the signal


@pytest.mark.parametrize('task', sorted(BENCHMARK_INPUTS))
def test_bundled_photos_degrade_to_where_the_benchmark_inputs_are(task):
    ref = BENCHMARK_INPUTS[task]
    median = measure(task, _photos(), draws=4)['median']
    assert abs(median['psnr'] - ref.psnr) <= PSNR_BAND, (task, median, ref)
    if ref.ssim is not None:
        assert abs(median['ssim'] - ref.ssim) <= SSIM_BAND, (task, median, ref)


def test_the_calibration_command_prints_the_table(capsys):
    one = sorted(glob.glob(os.path.join(SAMPLES, 'test', '*.png')))
    main(one + ['--draws', '1'])
    out = capsys.readouterr().out
    assert '| derain | Rain100L' in out and '| lowlight | LOL eval15' in out
    with pytest.raises(SystemExit):
        main(['no/such/photo.png'])
    assert 'image no/such/photo.png: no such file' in capsys.readouterr().err

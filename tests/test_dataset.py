"""MixedDegradationDataset: layouts, tasks, noise statistics, determinism, LMDB, errors."""
from __future__ import annotations

import os
import zlib

import numpy as np
import pytest
import torch

from perceive_ir_arch.data import LAYOUTS, TASKS, MixedDegradationDataset
from tests.conftest import SAMPLES, random_image, write_image


def make(sources, phase='train', **kw):
    opt = dict(name='t', phase=phase, sources=sources, io_backend={'type': 'disk'}, **kw)
    if phase == 'train':
        opt.setdefault('gt_size', 32)
    return MixedDegradationDataset(opt)


@pytest.mark.parametrize('task', TASKS)
def test_every_task_from_clean_images(task, clean_dir):
    ds = make([{'task': task, 'layout': 'synthetic', 'dataroot': clean_dir}])
    s = ds[1]
    assert s['lq'].shape == s['gt'].shape == (3, 32, 32)
    assert s['lq'].dtype == torch.float32 and 0 <= s['lq'].min() and s['lq'].max() <= 1
    assert s['task'] == task and s['task_id'] == TASKS.index(task)
    assert s['gt_path'].endswith('img1.png') and os.path.basename(s['lq_path']).startswith('img1_')
    assert not torch.equal(s['lq'], s['gt'])


def test_evaluation_noise_has_the_configured_sigma(tmp_path):
    grey = np.full((128, 128, 3), 128, np.uint8)  # mid grey: clipping never bites
    write_image(str(tmp_path / 'g' / 'grey.png'), grey)
    ds = make([{'task': 'denoise', 'dataroot': str(tmp_path / 'g'), 'sigmas': [15, 50]}], phase='val')
    assert len(ds) == 2  # one sample per image and sigma
    for i, sigma in enumerate([15, 50]):
        s = ds[i]
        residual = (s['lq'] - s['gt']).numpy()
        assert abs(residual.std() - sigma / 255) < 0.03 * sigma / 255
        assert abs(residual.mean()) < 0.005
        assert f'denoise{sigma}' in s['lq_path']


def test_evaluation_is_reproducible_and_training_follows_the_global_seed(clean_dir):
    src = [{'task': 'derain', 'layout': 'synthetic', 'dataroot': clean_dir}]
    a, b = make(src, phase='val'), make(src, phase='val')
    assert torch.equal(a[0]['lq'], b[0]['lq'])
    assert not torch.equal(a[0]['lq'], a[1]['lq'])
    train = make(src)
    np.random.seed(3)
    first = train[0]
    np.random.seed(3)
    again = train[0]
    assert torch.equal(first['lq'], again['lq']) and torch.equal(first['gt'], again['gt'])
    assert not torch.equal(first['lq'], train[0]['lq'])  # the state moved on


def test_repeat_factors_set_the_mix(clean_dir):
    ds = make([{'task': 'denoise', 'dataroot': clean_dir, 'repeat': 3},
               {'task': 'lowlight', 'layout': 'synthetic', 'dataroot': clean_dir}])
    assert len(ds) == 3 * 3 + 3
    assert ds.task_counts() == {'denoise': 9, 'lowlight': 3}
    assert [ds[i]['task'] for i in range(len(ds))] == ['denoise'] * 9 + ['lowlight'] * 3


def test_crops_and_flips_keep_lq_and_gt_aligned(tmp_path):
    # lq = gt // 2 pixel for pixel, so any misaligned crop or flip breaks the relation
    for i in range(2):
        gt = random_image(40, 50, i)
        write_image(str(tmp_path / 'low' / f'{i}.png'), gt // 2)
        write_image(str(tmp_path / 'high' / f'{i}.png'), gt)
    ds = make([{'task': 'lowlight', 'layout': 'lol', 'dataroot': str(tmp_path)}], gt_size=24,
              use_hflip=True, use_vflip=True, use_rot=True)
    np.random.seed(0)
    for k in range(20):
        s = ds[k % 2]
        gt8 = (s['gt'] * 255).round()
        assert torch.equal((s['lq'] * 255).round(), torch.div(gt8, 2, rounding_mode='floor'))


def test_positive_crop_shares_the_noise_realisation(clean_dir):
    # 48x56 images, 48x48 crops: the two crops differ only in their column offset (0-8);
    # when they land on the same column they must be the same noisy pixels
    ds = make([{'task': 'denoise', 'dataroot': clean_dir}], gt_size=48, positive_crop=True,
              use_hflip=False)
    np.random.seed(0)
    samples = [ds[0] for _ in range(200)]
    assert all(s['lq_pos'].shape == s['lq'].shape for s in samples)
    assert any(torch.equal(s['lq'], s['lq_pos']) for s in samples)
    assert not all(torch.equal(s['lq'], s['lq_pos']) for s in samples)


def _pair(tmp, lq_rel, gt_rel, seed):
    gt = random_image(36, 36, seed)
    write_image(os.path.join(tmp, gt_rel), gt)
    write_image(os.path.join(tmp, lq_rel), 255 - gt)
    return gt


@pytest.mark.parametrize('layout,pairs', [
    ('rain_promptir', [('rainy/rain-1.png', 'gt/norain-1.png'), ('rainy/rain-22.png', 'gt/norain-22.png')]),
    ('input_target', [('input/a.png', 'target/a.png'), ('input/b.png', 'target/b.png')]),
    ('reside_ots', [('synthetic/part1/0005_0.8_0.2.jpg', 'original/0005.jpg'),
                    ('synthetic/part2/0005_1_0.16.jpg', 'original/0005.jpg'),
                    ('synthetic/part1/0007_0.9_0.08.jpg', 'original/0007.jpg')]),
    ('reside_sots', [('input/0001_0.8_0.2.jpg', 'target/0001.png')]),
    ('gopro', [('GOPR0372_07_00/blur/000047.png', 'GOPR0372_07_00/sharp/000047.png'),
               ('GOPR0384_11_01/blur/001.png', 'GOPR0384_11_01/sharp/001.png')]),
    ('lol', [('low/1.png', 'high/1.png'), ('low/22.png', 'high/22.png')]),
])
def test_layouts_pair_each_degraded_image_with_its_clean_image(tmp_path, layout, pairs):
    task = {'rain_promptir': 'derain', 'input_target': 'derain', 'reside_ots': 'dehaze',
            'reside_sots': 'dehaze', 'gopro': 'deblur', 'lol': 'lowlight'}[layout]
    for lq, gt in pairs:  # the seed follows the clean file: RESIDE shares one clean image
        _pair(str(tmp_path), lq, gt, seed=zlib.crc32(gt.encode()))
    ds = make([{'task': task, 'layout': layout, 'dataroot': str(tmp_path)}], phase='val')
    assert len(ds) == len(pairs)
    got = {(os.path.relpath(ds[i]['lq_path'], tmp_path), os.path.relpath(ds[i]['gt_path'], tmp_path))
           for i in range(len(ds))}
    assert got == set(pairs)
    for i in range(len(ds)):
        s = ds[i]
        if not s['lq_path'].endswith('.jpg'):
            assert torch.allclose(s['lq'], 1 - s['gt'], atol=1 / 255 + 1e-6)


def test_explicit_roots_and_name_mapping(tmp_path):
    _pair(str(tmp_path), 'hazy/x_1.png', 'clear/x.png', 3)
    ds = make([{'task': 'dehaze', 'layout': 'paired', 'dataroot_lq': str(tmp_path / 'hazy'),
                'dataroot_gt': str(tmp_path / 'clear'), 'lq_pattern': r'(?P<n>[^_]+)_\d+',
                'gt_name': '{n}'}], phase='val')
    assert ds[0]['gt_path'] == str(tmp_path / 'clear' / 'x.png')


def test_lmdb_equals_disk(tmp_path):
    from perceive_ir_arch.data.make_lmdb import make_lmdb

    for i in range(2):
        _pair(str(tmp_path), f'rainy/rain-{i}.png', f'gt/norain-{i}.png', i)
    make_lmdb(str(tmp_path / 'rainy'))
    make_lmdb(str(tmp_path / 'gt'))
    src = [{'task': 'derain', 'layout': 'rain_promptir', 'dataroot': str(tmp_path)}]
    disk = MixedDegradationDataset(dict(phase='val', sources=src, io_backend={'type': 'disk'}))
    lmdb = MixedDegradationDataset(dict(phase='val', sources=src, io_backend={'type': 'lmdb'}))
    assert len(disk) == len(lmdb) == 2
    for i in range(2):
        assert torch.equal(disk[i]['lq'], lmdb[i]['lq']) and torch.equal(disk[i]['gt'], lmdb[i]['gt'])
        assert lmdb[i]['gt_path'].endswith(f'gt.lmdb/norain-{i}')


def test_bundled_samples_serve_every_task():
    ds = make([{'task': t, 'layout': 'synthetic', 'dataroot': os.path.join(SAMPLES, 'train')}
               for t in TASKS], gt_size=64)
    assert ds.task_counts() == {t: 5 for t in TASKS}


# -- errors -------------------------------------------------------------------------------
def test_empty_folder_is_named(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match=f"no images in '{tmp_path / 'empty'}'"):
        make([{'task': 'denoise', 'dataroot': str(tmp_path / 'empty')}])


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        make([{'task': 'denoise', 'dataroot': str(tmp_path / 'nowhere')}])


def test_missing_clean_file_is_named(tmp_path):
    _pair(str(tmp_path), 'rainy/rain-1.png', 'gt/norain-1.png', 1)
    write_image(str(tmp_path / 'rainy' / 'rain-2.png'), random_image(36, 36, 2))
    with pytest.raises(FileNotFoundError) as err:
        make([{'task': 'derain', 'layout': 'rain_promptir', 'dataroot': str(tmp_path)}])
    msg = str(err.value)
    assert 'rain-2 -> norain-2' in msg and str(tmp_path / 'gt') in msg


def test_no_file_matching_the_layout_is_reported(tmp_path):
    _pair(str(tmp_path), 'rainy/x.png', 'gt/x.png', 1)
    with pytest.raises(ValueError, match="matches the layout 'rain_promptir'"):
        make([{'task': 'derain', 'layout': 'rain_promptir', 'dataroot': str(tmp_path)}])


@pytest.mark.parametrize('source,match', [
    ({'task': 'denoise', 'dataroot': '.', 'sigma': [25]}, "did you mean 'sigmas'"),
    ({'task': 'denoize', 'dataroot': '.'}, 'denoize'),
    ({'task': 'derain', 'dataroot': '.'}, 'layout: required'),
    ({'task': 'derain', 'layout': 'rain_prompt', 'dataroot': '.'}, "did you mean 'rain_promptir'"),
    ({'task': 'denoise', 'dataroot': '.', 'repeat': 0}, 'repeat'),
    ({'task': 'dehaze', 'layout': 'synthetic', 'dataroot': '.', 'sigmas': [25]}, "takes no sigmas"),
    ({'task': 'denoise', 'dataroot': '.', 'sigmas': []}, 'denoise needs at least one level'),
    ({'task': 'lowligth', 'dataroot': '.'}, "did you mean 'lowlight'"),
])
def test_bad_source_options_are_named(source, match):
    with pytest.raises((KeyError, ValueError), match=match):
        make([source])


def test_images_under_the_crop_are_upscaled_as_the_release_does(tmp_path):
    import cv2

    img = random_image(40, 40, 3)
    write_image(str(tmp_path / 'c' / 'small.png'), img)
    ds = make([{'task': 'derain', 'layout': 'synthetic', 'dataroot': str(tmp_path / 'c')}], gt_size=100, bad_samples='raise',
              use_hflip=False)
    sample = ds[0]
    assert sample['lq'].shape == sample['gt'].shape == (3, 100, 100)
    expected = np.clip(cv2.resize(img.astype(np.float32) / 255, (100, 100), interpolation=cv2.INTER_CUBIC), 0, 1)
    np.testing.assert_allclose(sample['gt'].numpy().transpose(1, 2, 0), expected, atol=1e-6)


def test_an_unreadable_sample_is_replaced_within_its_task_uniformly(tmp_path, caplog):
    folder = tmp_path / 'd'
    (folder).mkdir()
    (folder / 'a_zero.png').write_bytes(b'')
    (folder / 'b_text.png').write_text('no')
    write_image(str(folder / 'c_good.png'), random_image(40, 40, 1))
    write_image(str(folder / 'd_good.png'), random_image(40, 40, 2))
    write_image(str(tmp_path / 'r' / 'rain.png'), random_image(40, 40, 3))
    with caplog.at_level('INFO', logger='basicsr.perceive_ir'):
        ds = make([{'task': 'denoise', 'dataroot': str(folder)}, {'task': 'derain', 'layout': 'synthetic', 'dataroot': str(tmp_path / 'r')}],
                  gt_size=32)
    assert any('5 samples per pass; per task: denoise 4, derain 1; per source: [0] denoise 4 x 1, '
               '[1] derain 1 x 1' in r.getMessage() for r in caplog.records)
    np.random.seed(0)
    served = {'c_good.png': 0, 'd_good.png': 0}
    for _ in range(100):
        for i in range(4):
            sample = ds[i]
            assert sample['task'] == 'denoise'  # never the next source's image
            served[os.path.basename(sample['gt_path'])] += 1
    # the next index would serve c_good three times in four; a redraw, half and half
    assert 0.4 < served['c_good.png'] / 400 < 0.6, served


def _bad_training_folder(folder) -> None:
    from PIL import Image

    for i in range(3):
        write_image(str(folder / f'good{i}.png'), random_image(40, 40, i))
    write_image(str(folder / 'grey.png'), random_image(40, 40, 3)[..., 0])
    write_image(str(folder / 'rgba.png'), np.dstack([random_image(40, 40, 4), np.full((40, 40), 9, np.uint8)]))
    write_image(str(folder / 'deep.tif'), random_image(40, 40, 5).astype(np.uint16) * 257)
    Image.fromarray(random_image(40, 40, 6)).convert('CMYK').save(folder / 'cmyk.jpg')
    write_image(str(folder / 'png_named.jpg'), random_image(40, 40, 7))  # wrong extension
    (folder / 'zero.png').write_bytes(b'')
    (folder / 'text.png').write_text('not an image')
    good = (folder / 'good0.png').read_bytes()
    (folder / 'truncated.png').write_bytes(good[:len(good) // 2])
    write_image(str(folder / 'tiny.png'), random_image(1, 1, 8))  # upscaled to the crop


BAD = ('zero.png', 'text.png', 'truncated.png')


def test_bad_training_files_are_reported_once_and_the_epoch_goes_on(tmp_path, caplog):
    _bad_training_folder(tmp_path / 'c')
    ds = make([{'task': 'denoise', 'dataroot': str(tmp_path / 'c')}], gt_size=32)
    assert len(ds) == 12
    with caplog.at_level('WARNING', logger='basicsr.perceive_ir'):
        for _ in range(2):  # two epochs: each bad file is reported once
            samples = [ds[i] for i in range(len(ds))]
    assert all(s['lq'].shape == (3, 32, 32) and torch.isfinite(s['gt']).all() for s in samples)
    served = {os.path.basename(s['gt_path']) for s in samples}
    assert {'grey.png', 'rgba.png', 'deep.tif', 'cmyk.jpg', 'png_named.jpg', 'tiny.png'} <= served  # converted
    assert not served & set(BAD)
    warnings = [r.getMessage() for r in caplog.records if 'skipped a sample' in r.getMessage()]
    for name in BAD:
        assert sum(name in w for w in warnings) == 1, name
    strict = make([{'task': 'denoise', 'dataroot': str(tmp_path / 'c')}], gt_size=32, bad_samples='raise')
    with pytest.raises((OSError, ValueError)):
        [strict[i] for i in range(len(strict))]


def test_a_training_set_with_nothing_usable_fails_at_start(tmp_path):
    os.makedirs(tmp_path / 'c')
    (tmp_path / 'c' / 'a.png').write_bytes(b'')
    (tmp_path / 'c' / 'b.png').write_text('no')
    with pytest.raises(ValueError, match='none of the 2 clean images can be read'):
        make([{'task': 'denoise', 'dataroot': str(tmp_path / 'c')}])


def test_mismatched_pair_sizes_are_named(tmp_path):
    write_image(str(tmp_path / 'low' / 'a.png'), random_image(30, 30, 0))
    write_image(str(tmp_path / 'high' / 'a.png'), random_image(32, 30, 0))
    ds = make([{'task': 'lowlight', 'layout': 'lol', 'dataroot': str(tmp_path)}], phase='val')
    with pytest.raises(ValueError, match='pairs must match'):
        ds[0]


def test_unreadable_image_is_named(tmp_path):
    os.makedirs(tmp_path / 'c')
    (tmp_path / 'c' / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n not really')
    ds = make([{'task': 'denoise', 'dataroot': str(tmp_path / 'c')}], phase='val')
    with pytest.raises(OSError, match='broken.png'):
        ds[0]


def test_grey_alpha_and_16_bit_images_become_rgb_floats(tmp_path):
    grey = random_image(34, 34, 1)[..., 0]
    write_image(str(tmp_path / 'c' / 'grey.png'), grey)
    rgba = np.concatenate([random_image(34, 34, 2), np.full((34, 34, 1), 7, np.uint8)], axis=2)
    write_image(str(tmp_path / 'c' / 'rgba.png'), rgba)
    deep = random_image(34, 34, 3).astype(np.uint16) * 257
    write_image(str(tmp_path / 'c' / 'deep.png'), deep)
    ds = make([{'task': 'lowlight', 'layout': 'synthetic', 'dataroot': str(tmp_path / 'c')}], phase='val')
    by_name = {os.path.basename(ds[i]['gt_path']): ds[i]['gt'] for i in range(3)}
    g = by_name['grey.png']
    assert g.shape == (3, 34, 34) and torch.equal(g[0], g[1]) and torch.equal(g[1], g[2])
    assert torch.allclose(by_name['grey.png'][0], torch.from_numpy(grey / 255.0).float())
    assert torch.allclose(by_name['rgba.png'], torch.from_numpy(rgba[..., :3] / 255.0).permute(2, 0, 1).float())
    assert torch.allclose(by_name['deep.png'], torch.from_numpy(deep / 65535.0).permute(2, 0, 1).float())


def test_layouts_table_documents_every_layout():
    assert {'synthetic', 'paired', 'rain_promptir', 'reside_ots', 'gopro', 'lol'} <= set(LAYOUTS)
    assert all(layout.example for layout in LAYOUTS.values())


def test_folds_are_stable_complementary_and_balanced(tmp_path):
    from perceive_ir_arch.data.folds import fold_of

    assert fold_of('derain', 'rain-12') == fold_of('derain', 'rain-12')
    names = [f'img{i:04d}' for i in range(2000)]
    share = sum(fold_of('denoise', n) for n in names) / len(names)
    assert 0.46 < share < 0.54
    assert fold_of('denoise', 'x') in (0, 1)
    # a known value: any machine, any Python, must agree (crc32 of "derain/rain-12")
    assert fold_of('derain', 'rain-12') == 1
    for i in range(12):
        write_image(str(tmp_path / 'c' / f'{i}.png'), random_image(20, 20, i))
    src = [{'task': 'denoise', 'dataroot': str(tmp_path / 'c'), 'sigmas': [25]}]
    halves = [{os.path.basename(make(src, phase='val', fold=f)[i]['gt_path'])
               for i in range(len(make(src, phase='val', fold=f)))} for f in (0, 1)]
    assert halves[0].isdisjoint(halves[1]) and len(halves[0] | halves[1]) == 12
    with pytest.raises(ValueError, match='fold must be in 0..1'):
        make(src, phase='val', fold=2)


def test_folds_keep_each_scene_on_one_side(tmp_path):
    """RESIDE OTS: several hazy images per clean one; GoPro: frames of one sequence."""
    root = tmp_path / 'Dehaze'
    for i in range(8):
        write_image(str(root / 'original' / f'{i:04d}.jpg'), random_image(20, 20, i))
        for part, (a, beta) in enumerate(((0.8, 0.04), (0.9, 0.12), (1.0, 0.2))):
            write_image(str(root / 'synthetic' / f'part{part + 1}' / f'{i:04d}_{a}_{beta}.jpg'),
                        random_image(20, 20, 100 + i))
    gopro = tmp_path / 'GoPro'
    for seq in ('GOPR0372_07_00', 'GOPR0374_11_00', 'GOPR0378_13_00', 'GOPR0384_11_01'):
        for f in range(3):
            for kind in ('blur', 'sharp'):
                write_image(str(gopro / seq / kind / f'{f:06d}.png'), random_image(20, 20, f))
    for src, key in (({'task': 'dehaze', 'layout': 'reside_ots', 'dataroot': str(root)},
                      lambda item: os.path.basename(item.gt)),
                     ({'task': 'deblur', 'layout': 'gopro', 'dataroot': str(gopro)},
                      lambda item: item.name.split('/')[0])):
        halves = [{key(it) for it in make([src], gt_size=16, fold=f).sources[0].items} for f in (0, 1)]
        assert halves[0] and halves[1] and not halves[0] & halves[1], halves
        n = [len(make([src], gt_size=16, fold=f).sources[0].items) for f in (0, 1)]
        assert sum(n) == len(make([src], gt_size=16).sources[0].items)


def test_samples_carry_their_fold_and_stage1b_render_at_the_same_crop(tmp_path):
    from perceive_ir_arch.data.folds import fold_of

    for i in range(3):
        write_image(str(tmp_path / 'd' / 'rainy' / f'rain-{i}.png'), random_image(40, 48, i))
        write_image(str(tmp_path / 'd' / 'gt' / f'norain-{i}.png'), random_image(40, 48, 10 + i))
        # a "render" equal to the degraded file, so the crop can be checked
        write_image(str(tmp_path / 'medium' / 'derain' / f'rain-{i}.png'), random_image(40, 48, i))
    write_image(str(tmp_path / 'c' / 'a.png'), random_image(40, 40, 7))
    ds = make([{'task': 'derain', 'layout': 'rain_promptir', 'dataroot': str(tmp_path / 'd')},
               {'task': 'denoise', 'dataroot': str(tmp_path / 'c')}], gt_size=24,
              medium_root=str(tmp_path / 'medium'), use_vflip=True)
    np.random.seed(0)
    for i in range(len(ds)):
        s = ds[i]
        scene = os.path.splitext(os.path.basename(s['gt_path']))[0]
        assert s['fold'] == fold_of(s['task'], scene)
        if s['task'] == 'derain':
            assert s['has_medium'] and torch.equal(s['medium'], s['lq'])  # same window, same flips
        else:
            assert not s['has_medium'] and s['medium'].shape == s['gt'].shape
    strict = make([{'task': 'derain', 'layout': 'rain_promptir', 'dataroot': str(tmp_path / 'd')}],
                  gt_size=24, medium_root=str(tmp_path / 'medium'), bad_samples='raise')
    os.remove(tmp_path / 'medium' / 'derain' / 'rain-0.png')
    with pytest.raises(OSError, match='no stage-1b render of this pair'):  # removed during the run
        [strict[i] for i in range(len(strict))]
    # missing before the run: stops at the start, whatever bad_samples says
    for bad in ('skip', 'raise'):
        with pytest.raises(FileNotFoundError, match=r"t.medium_root: 1 of the 3 pairs read from files have no "
                                                    r"stage-1b render \(e.g. '.*rain-0.png'\); run python -m "
                                                    r'perceive_ir_arch.render_medium'):
            make([{'task': 'derain', 'layout': 'rain_promptir', 'dataroot': str(tmp_path / 'd')}],
                 gt_size=24, medium_root=str(tmp_path / 'medium'), bad_samples=bad)


def test_a_proxy_render_missing_for_a_task_it_renders_stops_at_the_start(tmp_path):
    for i in range(2):
        write_image(str(tmp_path / 'd' / 'rainy' / f'rain-{i}.png'), random_image(40, 48, i))
        write_image(str(tmp_path / 'd' / 'gt' / f'norain-{i}.png'), random_image(40, 48, 10 + i))
    write_image(str(tmp_path / 'proxies' / 'promptir' / 'derain' / 'rain-1.png'), random_image(40, 48, 1))
    os.makedirs(tmp_path / 'proxies' / 'fsnet' / 'dehaze')  # a proxy of another task: not asked
    with pytest.raises(FileNotFoundError, match=r'proxy_root \(promptir\): 1 of the 2 pairs'):
        make([{'task': 'derain', 'layout': 'rain_promptir', 'dataroot': str(tmp_path / 'd')}],
             gt_size=24, proxy_root=str(tmp_path / 'proxies'))


def test_a_mistyped_dataset_key_is_named_with_the_closest(tmp_path):
    write_image(str(tmp_path / 'c' / 'a.png'), random_image(40, 40, 7))
    with pytest.raises(KeyError, match=r"t: unknown key 'positve_crop' \(did you mean 'positive_crop'\?\)"):
        make([{'task': 'denoise', 'dataroot': str(tmp_path / 'c')}], gt_size=24, positve_crop=True)
    with pytest.raises(KeyError, match=r"unknown key 'medium_rot' \(did you mean 'medium_root'\?\)"):
        make([{'task': 'denoise', 'dataroot': str(tmp_path / 'c')}], gt_size=24, medium_rot='x')

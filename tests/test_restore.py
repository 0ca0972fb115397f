"""Restoring users' photos: the restorer file, the Python API, tiling and ``perceive-ir restore``."""
from __future__ import annotations

import doctest
import math
import json
import os

import cv2
import numpy as np
import pytest
import torch

import perceive_ir_arch.inference.restorer
from perceive_ir_arch import PerceiveIR, create_restorer, save_restorer
from perceive_ir_arch.inference.tiling import blend_window, tiles
from perceive_ir_arch.inference.cli import main
from perceive_ir_arch.utils.image_io import apply_orientation, read_photo, write_photo
from tests.conftest import SAMPLES, TINY, random_image, write_image, write_yaml


def tiny_net(identity: bool = False, seed: int = 0) -> PerceiveIR:
    torch.manual_seed(seed)
    net = PerceiveIR(**TINY).eval()
    if identity:  # the global residual makes a zero last conv the identity: exact round trips
        torch.nn.init.zeros_(net.output.weight)
        torch.nn.init.zeros_(net.output.bias)
    return net


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp('weights')
    save_restorer(str(folder / 'identity.pth'), tiny_net(identity=True))
    save_restorer(str(folder / 'random.pth'), tiny_net(seed=1))
    return folder


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(peak ** 2 / max(mse, 1e-20))


# -- the restorer file and the API ------------------------------------------------------
def test_api_docstring_examples_run():
    result = doctest.testmod(perceive_ir_arch.inference.restorer, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


def test_restorer_file_round_trips_and_matches_the_network(weights):
    net = tiny_net(seed=1)
    restorer = create_restorer(str(weights / 'random.pth'), device='cpu')
    x = torch.rand(2, 3, 40, 56)
    with torch.no_grad():
        expected = net(x).clamp(0, 1)
    assert torch.allclose(restorer.restore(x), expected, atol=1e-6)  # one image at a time vs a batch
    data = torch.load(weights / 'random.pth', weights_only=True)
    assert data['semantic'] == {'name': 'dinov2_tiny', 'random': True}
    assert 'semantic_pretrained' not in data['network']
    assert not any(k.startswith('semantic_encoder') for k in data['params'])  # frozen parts stay out


def test_api_keeps_types_grey_alpha_and_bit_depth(weights):
    from PIL import Image

    r = create_restorer(str(weights / 'identity.pth'), device='cpu')
    rgba = np.dstack([random_image(30, 41, 0), np.arange(30 * 41).reshape(30, 41) % 256]).astype(np.uint8)
    out = r.restore(rgba)
    assert out.dtype == np.uint8 and np.array_equal(out, rgba)  # identity network, alpha kept
    deep = random_image(30, 41, 1).astype(np.uint16) * 257 + 3
    assert np.array_equal(r.restore(deep), deep)
    grey = random_image(30, 41, 2)[..., 0]
    assert r.restore(grey).shape == (30, 41)
    assert np.abs(r.restore(grey).astype(int) - grey).max() <= 1  # luma of equal channels
    pil = r.restore(Image.fromarray(rgba))
    assert isinstance(pil, Image.Image) and pil.mode == 'RGBA' and np.array_equal(np.asarray(pil), rgba)
    t = torch.rand(3, 21, 35)
    assert torch.allclose(r.restore(t), t, atol=1e-6)
    with pytest.raises(TypeError, match='numpy array, a PIL image or a tensor'):
        r.restore([1, 2, 3])


def test_basicsr_checkpoint_with_its_options_and_pack(tmp_path, weights, capsys):
    net = tiny_net(seed=1)
    ckpt = str(tmp_path / 'net_g_100.pth')
    torch.save({'params': net.state_dict()}, ckpt)
    opt = write_yaml(str(tmp_path / 'opt.yml'), {'network_g': dict(type='PerceiveIR', **TINY)})
    with pytest.raises(ValueError, match='BasicSR checkpoint .* give the option file'):
        create_restorer(ckpt, device='cpu')
    x = torch.rand(1, 3, 33, 47)
    direct = create_restorer(ckpt, opt=opt, device='cpu').restore(x)
    assert main(['pack', '--checkpoint', ckpt, '--opt', opt, '-o', str(tmp_path / 'packed.pth')]) == 0
    packed = create_restorer(str(tmp_path / 'packed.pth'), device='cpu').restore(x)
    assert torch.equal(direct, packed)
    assert torch.equal(packed, create_restorer(str(weights / 'random.pth'), device='cpu').restore(x))


def test_a_checkpoint_of_another_architecture_names_keys_and_shapes(tmp_path):
    other = PerceiveIR(**dict(TINY, dim=8)).state_dict()
    ckpt = str(tmp_path / 'net_g.pth')
    torch.save({'params': other}, ckpt)
    opt = write_yaml(str(tmp_path / 'opt.yml'), {'network_g': dict(type='PerceiveIR', **TINY)})
    with pytest.raises(ValueError, match=r'does not fit the network PerceiveIR: \d+ of another shape: '
                                         r'embed.weight: file \(8, 3, 3, 3\) vs network \(4, 3, 3, 3\)'):
        create_restorer(ckpt, opt=opt, device='cpu')


def test_a_real_semantic_encoder_must_be_found_locally(tmp_path, empty_caches):
    net = tiny_net()
    path = str(tmp_path / 'real.pth')
    save_restorer(path, net)
    data = torch.load(path, weights_only=True)
    data['semantic']['random'] = False  # as if trained with the real DINOv2 file
    torch.save(data, path)
    with pytest.raises(FileNotFoundError, match=r'(?s)semantic_weights: no local copy of the dinov2_tiny weights.*weights/dinov2_tiny.safetensors'):
        create_restorer(path, device='cpu')


def test_pickles_that_run_code_are_refused(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ('echo pwned',))

    path = tmp_path / 'evil.pth'
    path.write_bytes(pickle.dumps({'params': Evil()}))
    with pytest.raises(ValueError, match=r'weights: .*evil.pth holds pickled Python objects that would run code when loaded \(.*posix.system.*\); refused'):
        create_restorer(str(path), device='cpu')


# -- tiling -----------------------------------------------------------------------------
def _cover(h, w, tile, overlap):
    cover, count = torch.zeros(h, w), torch.zeros(h, w)
    for y0, y1, x0, x1 in tiles(h, w, tile, overlap):
        assert y1 - y0 <= tile and x1 - x0 <= tile
        cover[y0:y1, x0:x1] += blend_window(y1 - y0, x1 - x0, overlap, y0 > 0, y1 < h, x0 > 0, x1 < w)[0, 0]
        count[y0:y1, x0:x1] += 1
    return cover, count


def test_tiles_cover_the_image_and_blend_weights_sum_to_one_inside():
    # tiles at the nominal stride (32 + 24 k): the raised-cosine ramps of neighbours are
    # complementary, every pixel's weights sum to exactly 1
    cover, count = _cover(80, 104, 32, 8)
    torch.testing.assert_close(cover, torch.ones(80, 104), atol=1e-6, rtol=0)
    # any size: the last tile overlaps more; pixels under one tile weigh exactly 1, and the
    # weights of a pixel shared by tiles never fall below the smallest ramp value squared
    cover, count = _cover(70, 101, 32, 8)
    assert torch.equal(cover[count == 1], torch.ones(int((count == 1).sum())))
    smallest = 0.5 - 0.5 * math.cos(math.pi * 0.5 / 8)
    assert cover.min().item() >= smallest ** 2 and (count >= 1).all()


@pytest.mark.parametrize('cfe', ['release', 'airnet'])
def test_whole_image_guidance_equals_the_networks_own_when_one_tile_holds_it(cfe):
    torch.manual_seed(2)
    net = PerceiveIR(**dict(TINY, cfe_variant=cfe)).eval()
    x = torch.rand(1, 3, 64, 80)
    g = net.whole_image_guidance(x, tile=128, device=torch.device('cpu'))
    assert torch.allclose(g['z'], net.degradation_vector(x), atol=1e-6)
    assert torch.allclose(g['semantic'], net.semantic_features(x), atol=1e-6)
    g16 = net.whole_image_guidance(x, tile=16, device=torch.device('cpu'))  # 20 tiles
    assert torch.nn.functional.cosine_similarity(g16['z'], g['z']).item() > 0.99
    plain = PerceiveIR(**dict(TINY, semantic_guidance=False, degradation_guidance=False))
    assert plain.whole_image_guidance(x, 16, torch.device('cpu')) == {}  # nothing to share


def test_tiled_and_whole_image_restoration_agree_closely(weights):
    img = cv2.resize(read_photo(os.path.join(SAMPLES, 'test', 'chelsea.png')), (160, 120))
    whole = create_restorer(str(weights / 'random.pth'), device='cpu').restore(img)
    tiled_r = create_restorer(str(weights / 'random.pth'), device='cpu', tile=64, tile_overlap=16)
    assert tiled_r.count_tiles(120, 160) == 9  # 3 x 3
    tiled = tiled_r.restore(img)
    value = psnr(whole, tiled, 255)
    print(f'PSNR tiled (64, overlap 16) vs whole image, tiny random network: {value:.1f} dB')
    assert value > 50  # 53.3 dB measured (README)
    # a memory budget below what the whole image needs switches tiling on by itself
    auto = create_restorer(str(weights / 'random.pth'), device='cpu', max_memory='4M')
    assert auto.plan(120, 160) is not None and auto.plan(20, 20) is None


# -- image files and the command ---------------------------------------------------------
@pytest.mark.parametrize('orientation', range(1, 9))
def test_exif_orientation_is_applied_like_pil(tmp_path, orientation):
    from PIL import Image, ImageOps

    img = random_image(12, 20, orientation)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = str(tmp_path / 'o.png')
    Image.fromarray(img).save(path, exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert('RGB'))
    assert np.array_equal(read_photo(path), expected)
    assert np.array_equal(apply_orientation(img, orientation), expected)


FORMATS = [  # name, pixels, exact round trip with the identity network
    ('rgb8.png', lambda: random_image(37, 53, 0), True),
    ('rgb16.png', lambda: random_image(37, 53, 1).astype(np.uint16) * 257 + 5, True),
    ('grey8.png', lambda: random_image(37, 53, 2)[..., 0], False),
    ('grey16.tif', lambda: random_image(37, 53, 3)[..., 0].astype(np.uint16) * 250, False),
    ('rgba.png', lambda: np.dstack([random_image(37, 53, 4), random_image(37, 53, 5)[..., 0]]), True),
    ('rgba.webp', lambda: np.dstack([random_image(37, 53, 6), random_image(37, 53, 7)[..., 0]]), True),
    ('rgb16.tiff', lambda: random_image(37, 53, 8).astype(np.uint16) * 200, True),
    ('photo.jpg', lambda: random_image(37, 53, 9), False),
    ('photo.bmp', lambda: random_image(37, 53, 10), True),
]


def test_restore_keeps_format_channels_and_bit_depth(tmp_path, weights, capsys):
    src = tmp_path / 'in'
    originals = {}
    for name, make, _ in FORMATS:
        write_photo(str(src / name), make())
        originals[name] = read_photo(str(src / name))
    code = main(['restore', str(src), '-o', str(tmp_path / 'out'), '--weights',
                 str(weights / 'identity.pth'), '--device', 'cpu', '--quiet'])
    assert code == 0
    assert f'restored {len(FORMATS)} image(s)' in capsys.readouterr().err
    for name, _, exact in FORMATS:
        out = read_photo(str(tmp_path / 'out' / name))
        inp = originals[name]
        assert out.shape == inp.shape and out.dtype == inp.dtype, name
        if exact:
            assert np.array_equal(out, inp), name
        elif name.endswith('.jpg'):  # re-encoded: close, not equal
            assert psnr(out, inp, 255) > 35, name
        else:  # grey -> RGB -> luma: rounding only
            assert np.abs(out.astype(int) - inp.astype(int)).max() <= 1, name
    assert outputs(tmp_path / 'out') == sorted(n for n, _, _ in FORMATS)


def outputs(folder) -> list[str]:
    """The images in an output folder (its hidden record of the run left out)."""
    return sorted(n for n in os.listdir(folder) if not n.startswith('.'))


def test_a_corrupt_file_is_skipped_and_the_rest_restored(tmp_path, weights, capsys):
    write_image(str(tmp_path / 'in' / 'a.png'), random_image(20, 24, 0))
    (tmp_path / 'in' / 'b.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    write_image(str(tmp_path / 'in' / 'c.jpg'), random_image(20, 24, 1))
    code = main(['restore', str(tmp_path / 'in'), '-o', str(tmp_path / 'out'),
                 '--weights', str(weights / 'random.pth'), '--device', 'cpu', '--quiet'])
    assert code == 1
    err = capsys.readouterr().err
    assert 'skipped' in err and 'b.png' in err and 'not a readable image' in err
    assert 'restored 2 image(s)' in err
    assert outputs(tmp_path / 'out') == ['a.png', 'c.jpg']


def test_an_interrupted_run_leaves_no_partial_file(tmp_path, weights, monkeypatch):
    import perceive_ir_arch.utils.files as files

    for i in range(3):
        write_image(str(tmp_path / 'in' / f'{i}.png'), random_image(20, 24, i))
    calls = {'n': 0}
    real_replace = os.replace

    def interrupted(src, dst):  # Ctrl-C arrives while the second image is being written
        calls['n'] += dst.endswith('.png')
        if calls['n'] == 2:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(files.os, 'replace', interrupted)
    with pytest.raises(SystemExit, match='perceive-ir restore: interrupted'):
        main(['restore', str(tmp_path / 'in'), '-o', str(tmp_path / 'out'),
              '--weights', str(weights / 'random.pth'), '--device', 'cpu', '--quiet'])
    # complete, no temporary left beside it; the record of what was written is true
    assert outputs(tmp_path / 'out') == ['0.png']
    with open(tmp_path / 'out' / '.perceive-ir-outputs.json') as f:
        assert list(json.load(f)['outputs']) == ['0.png']
    assert not os.path.exists(tmp_path / 'out' / '.perceive-ir.lock')
    assert read_photo(str(tmp_path / 'out' / '0.png')).shape == (20, 24, 3)


def test_restore_refuses_to_overwrite_its_input_and_cuda_without_gpu(tmp_path, weights):
    path = write_image(str(tmp_path / 'a.png'), random_image(20, 24, 0))
    with pytest.raises(SystemExit, match='is the input itself'):
        main(['restore', path, '-o', str(tmp_path), '--weights', str(weights / 'random.pth')])
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match='no CUDA device is available'):
            main(['restore', path, '-o', str(tmp_path / 'o'), '--weights',
                  str(weights / 'random.pth'), '--device', 'cuda'])


def test_onnx_export_matches_pytorch(tmp_path, weights, capsys):
    pytest.importorskip('onnxruntime')
    onnx_path = str(tmp_path / 'tiny.onnx')
    code = main(['export', '--weights', str(weights / 'random.pth'), '--onnx', onnx_path, '--check',
                 '--check-images', os.path.join(SAMPLES, 'test', 'chelsea.png'), '--tolerance', '1e-4'])
    out = capsys.readouterr().out
    diffs = [float(line.rsplit(' ', 1)[1]) for line in out.splitlines() if 'max abs difference' in line]
    print(out)
    assert code == 0 and len(diffs) == 3 and max(diffs) < 1e-4
    assert os.listdir(tmp_path) == ['tiny.onnx']


def test_a_version_1_restorer_file_keeps_its_antialiased_semantic_resize(tmp_path):
    net = tiny_net()
    path = str(tmp_path / 'v1.pth')
    save_restorer(path, net)
    data = torch.load(path, weights_only=True)
    assert data['version'] == 4 and data['network']['semantic_antialias'] is False
    assert data['network']['semantic_pos_antialias'] is False and data['network']['guide_padded'] is True
    del data['network']['guide_padded']
    data['version'] = 3  # version 3: guided from the image as given
    torch.save(data, path)
    assert create_restorer(path, device='cpu').net.guide_padded is False
    del data['network']['semantic_pos_antialias']
    data['version'] = 2  # version 2: the image resize recorded, the position embedding's not
    torch.save(data, path)
    encoder = create_restorer(path, device='cpu').net.semantic_encoder
    assert encoder.antialias is False and encoder.pos_antialias is True
    data['version'] = 1
    del data['network']['semantic_antialias']
    torch.save(data, path)
    encoder = create_restorer(path, device='cpu').net.semantic_encoder
    assert encoder.antialias is True and encoder.pos_antialias is True


# -- networks as data ---------------------------------------------------------------------
def test_a_network_records_the_options_that_build_it_again():
    from basicsr.archs import build_network

    from perceive_ir_arch.registry import network_options

    net = PerceiveIR(**dict(TINY, dim=8, heads=(1, 1, 2, 2)))
    opt = network_options(net)
    assert opt['type'] == 'PerceiveIR' and opt['dim'] == 8 and opt['heads'] == [1, 1, 2, 2]
    assert opt['ffn_expansion_factor'] == 2.66 and opt['cfe_variant'] == 'release'  # defaults too
    again = build_network(opt)
    assert {k: v.shape for k, v in again.state_dict().items()} == {k: v.shape for k, v in net.state_dict().items()}
    assert network_options(again) == opt


def test_any_registered_network_packs_into_a_restorer_file_without_its_options(tmp_path):
    from perceive_ir_arch.registry import build_network

    # BasicSR's own network, built from its YAML block by the plugin (as its model, proxies and pack do)
    net = build_network({'type': 'RRDBNet', 'num_in_ch': 3, 'num_out_ch': 3, 'scale': 1, 'num_feat': 8,
                         'num_block': 1, 'num_grow_ch': 4})
    path = str(tmp_path / 'rrdbnet.pth')
    save_restorer(path, net)
    data = torch.load(path, weights_only=True)
    assert data['network'] == {'type': 'RRDBNet', 'num_in_ch': 3, 'num_out_ch': 3, 'scale': 1, 'num_feat': 8,
                               'num_block': 1, 'num_grow_ch': 4}
    assert data['semantic'] is None
    x = torch.rand(1, 3, 16, 16)
    restorer = create_restorer(path, device='cpu')
    with torch.no_grad():
        torch.testing.assert_close(restorer.restore_tensor(x), net.eval()(x).clamp(0, 1))


def test_basicsr_classes_are_left_unchanged_and_a_network_they_built_asks_for_its_options(tmp_path):
    from basicsr.archs import build_network
    from basicsr.archs.rrdbnet_arch import RRDBNet
    from basicsr.models.sr_model import SRModel

    from basicsr.models.base_model import BaseModel

    # the code that runs is BasicSR's own (a functools.wraps wrapper would copy __module__,
    # not __code__): nothing wrapped at import, model_to_device swapped only during a run
    for method, source in ((RRDBNet.__init__, 'archs/rrdbnet_arch.py'), (SRModel.__init__, 'models/sr_model.py'),
                           (BaseModel.model_to_device, 'models/base_model.py')):
        assert method.__code__.co_filename.replace(os.sep, '/').endswith(f'basicsr/{source}'), method
    net = build_network({'type': 'RRDBNet', 'num_in_ch': 3, 'num_out_ch': 3, 'scale': 1, 'num_feat': 8,
                         'num_block': 1, 'num_grow_ch': 4})
    with pytest.raises(TypeError, match=r'RRDBNet does not record its options .* pass network_opt'):
        save_restorer(str(tmp_path / 'x.pth'), net)


def test_a_mistyped_network_type_gets_the_closest_registered_names():
    from perceive_ir_arch.registry import build_network

    with pytest.raises(KeyError, match=r"network_g.type: 'PerceveIR' is not in the arch registry. "
                                       r"Did you mean 'PerceiveIR'\?"):
        build_network({'type': 'PerceveIR'})


def test_a_network_of_an_unregistered_class_asks_for_its_options(tmp_path):
    with pytest.raises(TypeError, match=r'Conv2d does not record its options .* pass network_opt'):
        save_restorer(str(tmp_path / 'x.pth'), torch.nn.Conv2d(3, 3, 3))
    assert not os.path.exists(tmp_path / 'x.pth')


def test_the_guidance_comes_from_the_padded_image_as_the_release_computes_it():
    """The release pads before its network, so its guidance sees the padded image; a
    network built with guide_padded (the default) restores an odd size as the network run
    on the padded image, cropped; with guide_padded: false the guidance differs."""
    import torch.nn.functional as F

    net = tiny_net(seed=2)
    x = torch.rand(1, 3, 57, 71)
    padded = F.pad(x, (0, 1, 0, 7), mode='reflect')
    with torch.no_grad():
        assert torch.allclose(net(x), net(padded)[..., :57, :71], atol=1e-6)
        net.guide_padded = False
        assert (net(x) - net(padded)[..., :57, :71]).abs().max() > 1e-4

"""The model table: every entry builds its publisher's network, restores by name through
every entry point from a file in its publisher's container, and compares in one table."""
from __future__ import annotations

import csv
import dataclasses
import os

import numpy as np
import pytest
import torch

from perceive_ir_arch import create_restorer
from perceive_ir_arch.tasks import TASKS
from perceive_ir_arch.inference.evaluation import centre_crop, evaluate, psnr, sequential_noise
from perceive_ir_arch.metrics.ssim_skimage import ssim_uniform
from perceive_ir_arch.pretrained import PRETRAINED_PARTS
from perceive_ir_arch.registry import build_network
from perceive_ir_arch.inference.cli import main as cli
from perceive_ir_arch.zoo import BENCHMARKS, MODELS, list_models, model_entry
from tests.conftest import random_image, write_image, write_yaml
from tests.publisher_figures import FIGURES, schema

FIGURE_OF = {'NAFNetLocal': 'NAFNet'}


@pytest.mark.parametrize('name', [n for n, e in MODELS.items() if e.network is not None])
def test_every_entry_builds_its_publishers_network_at_full_size(name):
    entry = MODELS[name]
    with torch.device('meta'):
        net = build_network(dict(entry.network))
    kind = entry.network['type']
    assert schema(net) == FIGURES[FIGURE_OF.get(kind, kind)]['full']


def test_the_table_is_consistent():
    assert {'perceive_ir_3task', 'perceive_ir_5task', 'promptir_allinone', 'instructir_7d', 'fsnet_ots',
            'mambair_denoise15', 'mambair_denoise25', 'mambair_denoise50', 'nafnet_gopro_w32', 'retinexformer_lol_v1',
            'adair_3task', 'adair_5task', 'airnet_3task'} <= set(list_models())
    for entry in MODELS.values():
        assert entry.weights in PRETRAINED_PARTS and set(entry.tasks) <= set(TASKS)
        if entry.published is not None:
            assert set(entry.published.results) <= set(BENCHMARKS) | {'average'}, entry.name
            assert all(BENCHMARKS[b].task in entry.tasks for b in entry.published.results if b != 'average')
    with pytest.raises(KeyError, match="'adair3task' is not a model of the table. Did you mean 'adair_3task'"):
        model_entry('adair3task')


# -- tiny versions of the table's entries, with files in their publishers' containers -----------
TINY = {
    'adair_3task': ({'type': 'AdaIR', 'dim': 16, 'num_blocks': [1, 1, 1, 1], 'num_refinement_blocks': 1,
                     'heads': [1, 2, 2, 4]}, 'lightning'),
    'airnet_3task': ({'type': 'AirNet', 'groups': 1, 'blocks': 1, 'queue_size': 256}, 'plain'),
    'promptir_allinone': ({'type': 'PromptIR', 'dim': 8, 'num_blocks': [1, 1, 1, 1], 'num_refinement_blocks': 1,
                           'heads': [1, 1, 1, 1], 'prompt_dims': [8, 16, 40], 'prompt_sizes': [8, 4, 2],
                           'prompt_len': 2}, 'lightning'),
    'fsnet_ots': ({'type': 'FSNet', 'num_res': 4, 'base_channel': 16}, 'model'),
    'instructir_7d': ({'type': 'InstructIR', 'width': 8, 'enc_blk_nums': [1, 1], 'middle_blk_num': 1,
                       'dec_blk_nums': [1, 1], 'txtdim': 16}, 'plain'),
    'mambair_denoise25': ({'type': 'MambaIR', 'embed_dim': 90, 'depths': [1], 'd_state': 4, 'mlp_ratio': 1.2},
                          'basicsr'),
    'nafnet_gopro_w32': ({'type': 'NAFNetLocal', 'width': 8, 'enc_blk_nums': [1, 1], 'middle_blk_num': 1,
                          'dec_blk_nums': [1, 1], 'train_size': [1, 3, 16, 16]}, 'basicsr'),
    'retinexformer_lol_v1': ({'type': 'RetinexFormer', 'n_feat': 8, 'stage': 1, 'num_blocks': [1, 1, 1]}, 'basicsr'),
}
CONTAINERS = {'lightning': lambda s: {'state_dict': {f'net.{k}': v for k, v in s.items()}, 'epoch': 3},
              'plain': lambda s: s, 'model': lambda s: {'model': s}, 'basicsr': lambda s: {'params': s}}


@pytest.fixture
def tiny_zoo(tmp_path, monkeypatch, empty_caches):
    """Every entry of TINY at a tiny width, its file in its publisher's container and under
    its published name in $PERCEIVE_IR_WEIGHTS; returns the networks the files hold."""
    nets = {}
    weights = empty_caches['PERCEIVE_IR_WEIGHTS']
    for name, (network, container) in TINY.items():
        entry = MODELS[name]
        monkeypatch.setitem(MODELS, name, dataclasses.replace(entry, network=network))
        torch.manual_seed(len(nets))
        net = build_network(dict(network)).eval()
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p) * 0.02)
        path = os.path.join(weights, PRETRAINED_PARTS[entry.weights].published_name())
        os.makedirs(os.path.dirname(path), exist_ok=True)
        torch.save(CONTAINERS[container](net.state_dict()), path)
        nets[name] = net
    vectors = {t: torch.randn(16, generator=torch.Generator().manual_seed(i)) for i, t in enumerate(TASKS)}
    torch.save(vectors, os.path.join(weights, 'task_embeddings_five.pt'))
    return nets, vectors


def _direct(name, net, vectors, x, task='derain'):
    with torch.no_grad():
        if name == 'instructir_7d':
            return net(x, vectors[task][None].expand(x.shape[0], -1)).clamp(0, 1)
        out = net(x)
        return (out[2] if name == 'fsnet_ots' else out).clamp(0, 1)


@pytest.mark.parametrize('name', sorted(TINY))
def test_a_model_restores_by_name_as_its_network_computes(tiny_zoo, name):
    nets, vectors = tiny_zoo
    x = torch.rand(1, 3, 24, 32, generator=torch.Generator().manual_seed(0))
    restorer = create_restorer(name, device='cpu', task='derain' if name == 'instructir_7d' else None)
    expected = MODELS[name].protocol.restore
    assert restorer.protocol == expected
    out = restorer.restore_tensor(x)
    assert torch.allclose(out, _direct(name, nets[name], vectors, x), atol=1e-5)


def test_by_name_through_the_command_pack_and_export(tiny_zoo, tmp_path, capsys):
    nets, vectors = tiny_zoo
    img = random_image(24, 32, 0)
    write_image(str(tmp_path / 'in' / 'a.png'), img)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    for name in ('adair_3task', 'fsnet_ots', 'nafnet_gopro_w32'):  # nafnet: its file named otherwise
        assert cli(['restore', str(tmp_path / 'in'), '-o', str(tmp_path / name), '--weights', name,
                    '--device', 'cpu', '--quiet']) == 0
        from perceive_ir_arch.utils.image_io import read_photo

        got = torch.from_numpy(read_photo(str(tmp_path / name / 'a.png'))).permute(2, 0, 1)[None].float() / 255
        assert (got - _direct(name, nets[name], vectors, x)).abs().max() <= 1 / 255 + 1e-6
    # a model that takes a task: refused without one, restored with it
    with pytest.raises(SystemExit, match='instructir_7d restores with a vector per task: add --task'):
        cli(['restore', str(tmp_path / 'in'), '-o', str(tmp_path / 'ir'), '--weights', 'instructir_7d',
             '--device', 'cpu', '--quiet'])
    assert cli(['restore', str(tmp_path / 'in'), '-o', str(tmp_path / 'ir'), '--weights', 'instructir_7d',
                '--task', 'dehaze', '--device', 'cpu', '--quiet']) == 0
    # pack: one self-contained file that restores as the model (list output kept)
    assert cli(['pack', '--checkpoint', 'fsnet_ots', '-o', str(tmp_path / 'fsnet.pth')]) == 0
    packed = create_restorer(str(tmp_path / 'fsnet.pth'), device='cpu').restore_tensor(x)
    assert torch.allclose(packed, _direct('fsnet_ots', nets['fsnet_ots'], vectors, x), atol=1e-5)
    with pytest.raises(SystemExit, match='adair_3task is a model of the table, which says its network; leave out --opt'):
        cli(['restore', str(tmp_path / 'in'), '-o', str(tmp_path / 'x'), '--weights', 'adair_3task',
             '--opt', str(tmp_path / 'o.yml'), '--device', 'cpu'])


def test_models_lists_every_entry_and_where_its_file_is(tiny_zoo, capsys, empty_caches):
    assert cli(['models']) == 0
    out = capsys.readouterr().out
    for name in MODELS:
        assert name in out
    assert os.path.join(str(empty_caches['PERCEIVE_IR_WEIGHTS']), 'adair3d.ckpt') in out
    assert 'missing: AIO-3D.pth into' in out


# -- one evaluation --------------------------------------------------------------------------------
@pytest.fixture
def benchmark_root(tmp_path):
    """A replica of the test root: 3 noise images, 2 rain pairs (odd sizes: crops matter)."""
    root = tmp_path / 'test'
    for i in range(3):
        write_image(str(root / 'denoise' / 'bsd68' / f'{i:02d}.png'), random_image(35, 41, i))
    for i in range(2):
        clean = random_image(37, 43, 10 + i)
        rainy = np.clip(clean.astype(int) + np.random.default_rng(i).integers(0, 60, clean.shape), 0, 255).astype(np.uint8)
        write_image(str(root / 'derain' / 'Rain100L' / 'target' / f'{i}.png'), clean)
        write_image(str(root / 'derain' / 'Rain100L' / 'input' / f'{i}.png'), rainy)
    return str(root)


def test_the_evaluation_table_equals_a_direct_computation(tiny_zoo, benchmark_root, tmp_path):
    nets, vectors = tiny_zoo
    result, shown = evaluate(['adair_3task', 'airnet_3task'], benchmark_root, ['CBSD68_sigma25', 'Rain100L'],
                             'publisher', 'cpu', figure=['Rain100L/1'])
    # by hand: the peers' crop to 16, the peers' noise stream, one metric
    cleans = sorted(os.listdir(os.path.join(benchmark_root, 'denoise', 'bsd68')))
    from perceive_ir_arch.utils.image_io import read_photo

    gt_noise = [centre_crop(read_photo(os.path.join(benchmark_root, 'denoise', 'bsd68', f)), 16) for f in cleans]
    noisy = sequential_noise(gt_noise)[25.0]
    rain = [(centre_crop(read_photo(os.path.join(benchmark_root, 'derain', 'Rain100L', 'input', f'{i}.png')), 16),
             centre_crop(read_photo(os.path.join(benchmark_root, 'derain', 'Rain100L', 'target', f'{i}.png')), 16))
            for i in range(2)]
    for name in ('adair_3task', 'airnet_3task'):
        for bench, pairs in (('CBSD68_sigma25', list(zip(noisy, gt_noise))), ('Rain100L', rain)):
            p, s = [], []
            for lq, gt in pairs:
                x = torch.from_numpy(lq).permute(2, 0, 1)[None].float() / 255
                out = _direct(name, nets[name], vectors, x)[0].permute(1, 2, 0).numpy()
                p.append(psnr(out, gt / 255.0))
                s.append(ssim_uniform(out.astype(np.float64), gt / 255.0))
            row = result.cell(name, bench)
            assert row.images == len(pairs) and row.psnr == pytest.approx(np.mean(p), abs=1e-4)
            assert row.ssim == pytest.approx(np.mean(s), abs=1e-5)
    # the published number beside, and the difference
    airnet = result.cell('airnet_3task', 'Rain100L')
    assert airnet.paper == (34.90, 0.967)
    assert f'{airnet.psnr:.2f} / {airnet.ssim:.4f} ({34.90:.2f}, {airnet.psnr - 34.90:+.2f})' in result.markdown()
    assert "- adair_3task: the PromptIR / AirNet / AdaIR test scripts" in result.markdown()
    files = result.write(str(tmp_path / 'out'))
    rows = list(csv.DictReader(open(files[1])))
    assert [(r['model'], r['benchmark']) for r in rows] == [('adair_3task', 'CBSD68_sigma25'), ('adair_3task', 'Rain100L'),
                                                          ('airnet_3task', 'CBSD68_sigma25'), ('airnet_3task', 'Rain100L')]
    assert set(shown['Rain100L/1']) == {'adair_3task', 'airnet_3task'}
    lq, out, gt = shown['Rain100L/1']['airnet_3task']  # the model's crop of the pair, and its output
    assert np.array_equal(gt, rain[1][1]) and np.array_equal(lq, rain[1][0])
    from perceive_ir_arch.inference.evaluation import comparison_figure

    figure = comparison_figure(shown['Rain100L/1'], ['adair_3task', 'airnet_3task'], (0, 0, 16))
    assert figure.shape == (160 + 18, 4 * 160 + 3 * 4, 3)  # input, two models, target; 16 px shown 10x


def test_evaluate_command_writes_the_table_and_the_figure(tiny_zoo, benchmark_root, tmp_path, capsys):
    out = tmp_path / 'eval'
    assert cli(['evaluate', '--models', 'promptir_allinone', 'fsnet_ots', '--data', benchmark_root,
                '--protocol', 'common', '--device', 'cpu', '-o', str(out), '--figure', 'Rain100L/0', '--quiet']) == 0
    text = capsys.readouterr().out
    assert '| promptir_allinone |' in text and '| fsnet_ots | — | — | — |' in text  # dehazing only
    assert sorted(os.listdir(out)) == ['evaluation.csv', 'evaluation.json', 'evaluation.md', 'figure_Rain100L_0.png']
    from perceive_ir_arch.utils.image_io import read_photo

    figure = read_photo(str(out / 'figure_Rain100L_0.png'))
    assert figure.shape[1] > 3 * figure.shape[0] // 2  # input, one model (fsnet restores no rain), target


def test_the_peers_noise_stream_is_theirs():
    """An independent re-statement of the peers' scripts: np.random.seed(0), then for each
    sigma in 15, 25, 50 and each image: clip(img + randn * sigma, 0, 255).astype(uint8)."""
    imgs = [np.full((4, 5, 3), v, np.uint8) for v in (10, 128, 250)]
    np.random.seed(0)
    expected = {s: [np.clip(im + np.random.randn(*im.shape) * s, 0, 255).astype(np.uint8) for im in imgs]
                for s in (15, 25, 50)}
    got = sequential_noise(imgs)
    for s in (15, 25, 50):
        for a, b in zip(got[float(s)], expected[s]):
            assert np.array_equal(a, b)


def test_pretrain_network_g_by_name_builds_the_model_in_a_test_file(tiny_zoo, benchmark_root, tmp_path):
    opt = {'name': 'byname', 'model_type': 'PerceiveIRModel', 'scale': 1, 'num_gpu': 0, 'manual_seed': 0,
           'datasets': {'test_1': {'name': 'Rain100L', 'type': 'MixedDegradationDataset', 'io_backend': {'type': 'disk'},
                                   'center_crop_multiple': 16,
                                   'sources': [{'task': 'derain', 'layout': 'input_target',
                                                'dataroot': os.path.join(benchmark_root, 'derain', 'Rain100L')}]}},
           'path': {'pretrain_network_g': 'adair_3task'},
           'val': {'save_img': False, 'metrics': {'psnr': {'type': 'calculate_psnr', 'crop_border': 0,
                                                            'test_y_channel': False}}}}
    # in this process: the fixture's tiny entry is in the table
    import sys

    from perceive_ir_arch.runners.test import main

    argv = sys.argv
    sys.argv = ['test', '-opt', write_yaml(str(tmp_path / 'test.yml'), opt)]
    try:
        rows = main(str(tmp_path))
    finally:
        sys.argv = argv
    nets, vectors = tiny_zoo
    ours = []
    from perceive_ir_arch.utils.image_io import read_photo

    for i in range(2):
        lq = centre_crop(read_photo(os.path.join(benchmark_root, 'derain', 'Rain100L', 'input', f'{i}.png')), 16)
        gt = centre_crop(read_photo(os.path.join(benchmark_root, 'derain', 'Rain100L', 'target', f'{i}.png')), 16)
        out = _direct('adair_3task', nets['adair_3task'], vectors, torch.from_numpy(lq).permute(2, 0, 1)[None] / 255.)
        out8 = (out[0].permute(1, 2, 0).numpy() * 255).round()
        ours.append(10 * np.log10(255 ** 2 / np.mean((out8 - gt.astype(np.float64)) ** 2)))
    assert rows[0]['restored']['psnr'] == pytest.approx(np.mean(ours), abs=1e-3)


def test_the_authors_share_as_downloaded_is_found(tmp_path, monkeypatch):
    """$PERCEIVE_IR_WEIGHTS pointing at the authors' weight/ folder as their share lays it out."""
    from perceive_ir_arch.pretrained import find_published

    share = tmp_path / 'weight'
    files = {'dinov2_vitb14': 'dinov2-base/model.safetensors', 'clip_ViT-B-32': 'clip/ViT-B-32.pt',
             'vgg16': 'vgg16-397923af.pth', 'perceive_ir_medium_fold0': 'stage1/holdout_1/medium_020000.pth',
             'perceive_ir_medium_fold1': 'stage1/holdout_0/medium_020000.pth',
             'perceive_ir_prompts': 'stage1/quality_prompts_100000.pth', 'perceive_ir_3task': 'AIO-3D.pth',
             'perceive_ir_5task': 'AIO-5D.pth'}
    for rel in list(files.values()) + ['stage1/holdout_1/medium_010000.pth', 'dinov2-base/config.json']:
        (share / rel).parent.mkdir(parents=True, exist_ok=True)
        (share / rel).write_bytes(b'x')
    monkeypatch.setenv('PERCEIVE_IR_WEIGHTS', str(share))
    for part, rel in files.items():  # the newest iteration of a stage-1 restorer
        assert find_published(PRETRAINED_PARTS[part]) == str(share / rel), part
    # the release's test file names only what the lookup rule finds: no path to edit
    import yaml

    opt = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), '..', 'options', 'test_release.yml')))
    assert opt['path']['pretrain_network_g'] == 'perceive_ir_3task' and opt['network_g']['semantic_pretrained'] is True


def test_the_models_page_shows_the_table():
    from perceive_ir_arch.zoo.models import table_markdown

    text = open(os.path.join(os.path.dirname(__file__), '..', 'docs', 'models.md'), encoding='utf-8').read()
    assert table_markdown() in text


def test_the_release_test_file_runs_on_the_authors_share_with_no_override(tmp_path):
    """$PERCEIVE_IR_WEIGHTS at a folder laid out as the authors' share (weight/dinov2-base/,
    weight/AIO-3D.pth at full size, random values) and datasets/test/ in the layout the file
    names: `python -m perceive_ir_arch.test -opt options/test_release.yml`, nothing overridden."""
    from tests import published_files as pf
    from tests.conftest import REPO, run_python
    from tests.release_reference import ReleasePerceiveIR

    share = tmp_path / 'weight'
    pf.write_dinov2_transformers(str(share / 'dinov2-base'), pf.dinov2_state('vit_base_patch14_dinov2'))
    torch.manual_seed(0)
    stage2 = ReleasePerceiveIR()  # the release's full shape, 768-d DINOv2 guidance
    torch.save({'model': stage2.state_dict(), 'iteration': 1,
                'config': {'data': {'tasks': ['denoise', 'dehaze', 'derain']},
                           'model': {'dim': 48, 'blocks': [4, 6, 6, 8], 'heads': [1, 2, 4, 8],
                                     'refinement_blocks': 4}}}, str(share / 'AIO-3D.pth'))
    test = tmp_path / 'datasets' / 'test'  # one small image per set: one tile each
    write_image(str(test / 'denoise' / 'bsd68' / '3096.png'), random_image(40, 48, 0))
    clean = random_image(40, 48, 1)
    write_image(str(test / 'dehaze' / 'target' / '0001.png'), clean)
    write_image(str(test / 'dehaze' / 'input' / '0001_0.8_0.2.jpg'), (clean * 0.6 + 90).astype(np.uint8))
    write_image(str(test / 'derain' / 'Rain100L' / 'target' / 'rain-1.png'), clean)
    write_image(str(test / 'derain' / 'Rain100L' / 'input' / 'rain-1.png'), np.maximum(clean, 200))
    out = run_python(['-m', 'perceive_ir_arch.test', '-opt', os.path.join(REPO, 'options', 'test_release.yml')],
                     cwd=str(tmp_path), env={'PERCEIVE_IR_WEIGHTS': str(share), 'HOME': str(tmp_path)}, timeout=600)
    rows = list(csv.DictReader(open(tmp_path / 'results' / 'PerceiveIR_3task_release_test' / 'metrics.csv')))
    assert [r['dataset'] for r in rows] == ['CBSD68_sigma15', 'CBSD68_sigma25', 'CBSD68_sigma50', 'SOTS_outdoor',
                                            'Rain100L', 'average'], out.stdout[-2000:]
    assert all(float(r['restored_psnr']) > 0 for r in rows)

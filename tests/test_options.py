"""Every bundled option file parses with BasicSR's loader and names registered types."""
from __future__ import annotations

import glob
import os

import pytest
import yaml

import perceive_ir_arch  # noqa: F401
from tests.conftest import REPO

FILES = sorted(glob.glob(os.path.join(REPO, 'options', '**', '*.yml'), recursive=True))


def _types(opt):
    from basicsr.utils.registry import (ARCH_REGISTRY, DATASET_REGISTRY, LOSS_REGISTRY,
                                        METRIC_REGISTRY, MODEL_REGISTRY)

    yield MODEL_REGISTRY, opt['model_type']
    yield ARCH_REGISTRY, opt['network_g']['type']
    for d in opt['datasets'].values():
        yield DATASET_REGISTRY, d['type']
    for key, value in opt.get('train', {}).items():
        if key.endswith('_opt') and value:
            yield LOSS_REGISTRY, value['type']
    for m in (opt.get('val') or {}).get('metrics', {}).values():
        yield METRIC_REGISTRY, m['type']


def test_there_are_option_files():
    names = {os.path.relpath(f, os.path.join(REPO, 'options')) for f in FILES}
    assert {'perceive_ir.yml', 'perceive_ir_5task.yml', 'test.yml', 'test_5task.yml',
            'train_medium_restorer.yml', 'render_medium.yml', 'train_quality_perceiver.yml',
            'demo/train_demo.yml', 'demo/test_demo.yml'} <= names


@pytest.mark.parametrize('path', FILES, ids=lambda p: os.path.relpath(p, REPO))
def test_option_file_parses_and_names_registered_types(path):
    from basicsr.utils.options import ordered_yaml

    with open(path) as f:
        opt = yaml.load(f, Loader=ordered_yaml()[0])
    if 'restorers' in opt:  # render_medium's file, not a BasicSR run
        from basicsr.utils.registry import ARCH_REGISTRY, DATASET_REGISTRY

        assert opt['network_g']['type'] in ARCH_REGISTRY
        assert opt['datasets']['train']['type'] in DATASET_REGISTRY
        assert set(opt['restorers']) == {'fold0', 'fold1'}
    else:
        for key in ('name', 'model_type', 'num_gpu', 'scale', 'datasets', 'network_g', 'path'):
            assert key in opt, f'{path}: BasicSR needs {key}'
        for registry, name in _types(opt):
            assert name in registry, f'{path}: {name} is not registered'
    if opt['network_g']['type'] != 'PerceiveIR':
        return
    net = dict(opt['network_g'])
    net.pop('type')
    if 'semantic_pretrained' in net:  # the real file is not here; the shape is what counts
        net['semantic_pretrained'] = None
    import torch

    from perceive_ir_arch.archs import PerceiveIR
    with torch.device('meta'):
        PerceiveIR(**net)


@pytest.mark.parametrize('block,match', [
    ({'type': 'PerceiveIR', 'dimm': 8}, r"PerceiveIR: unknown option 'dimm' \(did you mean 'dim'\?\)"),
    ({'type': 'DegradationContrastiveLoss', 'temprature': 0.1},
     r"unknown option 'temprature' \(did you mean 'temperature'\?\); its options are loss_weight, temperature"),
    ({'type': 'CLIPQualityLoss', 'clip_weights': 'x.pt'}, r"CLIPQualityLoss: unknown option 'clip_weights'"),
])
def test_a_typo_in_a_plugin_block_names_the_option_and_the_fix(block, match):
    from basicsr.archs import build_network
    from basicsr.losses import build_loss

    build = build_network if block['type'] == 'PerceiveIR' else build_loss
    with pytest.raises(TypeError, match=match):
        build(dict(block))


@pytest.mark.parametrize('block,match', [
    ({'type': 'PerceiveIR', 'dim': '48'}, r"PerceiveIR: option 'dim' must be int, got str '48'"),
    ({'type': 'PerceiveIR', 'num_blocks': 4}, r"option 'num_blocks' must be a list of int, got int 4"),
    ({'type': 'PerceiveIR', 'semantic_guidance': 'no'}, r"option 'semantic_guidance' must be bool"),
    ({'type': 'DegradationContrastiveLoss', 'temperature': '1e-1'},
     r"option 'temperature' must be float, got str '1e-1' \(YAML reads 1e-1 as text: write 0.1"),
])
def test_a_wrong_type_in_a_plugin_block_names_the_option_and_the_type(block, match):
    from basicsr.archs import build_network
    from basicsr.losses import build_loss

    build = build_network if block['type'] == 'PerceiveIR' else build_loss
    with pytest.raises(TypeError, match=match):
        build(dict(block))


@pytest.mark.parametrize('train,test', [('perceive_ir.yml', 'test.yml'), ('perceive_ir_5task.yml', 'test_5task.yml'),
                                        ('perceive_ir.yml', 'test_release.yml'),
                                        ('perceive_ir_5task.yml', 'test_5task_release.yml'),
                                        ('perceive_ir.yml', 'test_own_pairs.yml'),
                                        ('demo/train_demo.yml', 'demo/test_demo.yml')])
def test_each_test_file_builds_the_network_its_training_file_trains(train, test):
    # a test file's network_g is written out again; an option that changes no weight
    # (cfe_centred_input, a variant) would load strictly and still restore differently
    import inspect

    from perceive_ir_arch.archs import PerceiveIR

    defaults = {k: p.default for k, p in inspect.signature(PerceiveIR).parameters.items()
                if p.default is not inspect.Parameter.empty}

    def network(name):
        with open(os.path.join(REPO, 'options', name)) as f:
            net = dict(yaml.safe_load(f)['network_g'])
        assert net.pop('type') == 'PerceiveIR'
        net.pop('semantic_pretrained', None)  # where the file is found, not what is built
        return {k: tuple(v) if isinstance(v, list) else v for k, v in {**defaults, **net}.items()}

    trained, tested = network(train), network(test)
    assert {k: (trained[k], tested[k]) for k in trained if trained[k] != tested[k]} == {}


def test_the_own_pairs_template_reads_a_folder_of_input_and_target(tmp_path):
    from basicsr.data import build_dataset

    from tests.conftest import random_image, write_image

    with open(os.path.join(REPO, 'options', 'test_own_pairs.yml')) as f:
        opt = yaml.safe_load(f)
    for name in ('a.png', 'b.jpg'):
        write_image(str(tmp_path / 'input' / name), random_image(40, 50, 1))
        write_image(str(tmp_path / 'target' / name), random_image(40, 50, 2))
    ds_opt = dict(opt['datasets']['test_1'], phase='val')
    ds_opt['sources'] = [dict(ds_opt['sources'][0], dataroot=str(tmp_path))]
    ds = build_dataset(ds_opt)
    assert len(ds) == 2 and ds[0]['task'] == 'derain' and ds[0]['lq'].shape == (3, 32, 48)  # cropped to 16

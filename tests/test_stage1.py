"""Stage 1: folds -> medium restorers -> rendered medium tier -> quality perceiver."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
import torch

from perceive_ir_arch.archs import QUALITY_TIERS

from perceive_ir_arch.data import MixedDegradationDataset, QualityTierDataset
from tests.conftest import SAMPLES, TINY, run_python, write_yaml

PLAIN = dict(TINY, type='PerceiveIR', semantic_guidance=False, degradation_guidance=False)
SOURCES = [{'task': t, 'layout': 'synthetic', 'dataroot': os.path.join(SAMPLES, 'train')}
           for t in ('denoise', 'dehaze', 'lowlight')]


def fake_medium(root, sources=SOURCES):
    """A medium tier that is exactly the degraded image, so crops can be checked."""
    pairs = MixedDegradationDataset(dict(phase='val', sources=sources))
    for i in range(len(pairs)):
        lq = pairs[i]['lq'].permute(1, 2, 0).numpy()
        path = os.path.join(root, pairs.sample_key(i) + '.png')
        os.makedirs(os.path.dirname(path), exist_ok=True)
        cv2.imwrite(path, (lq[..., ::-1] * 255).round().astype(np.uint8))
    return pairs


def test_triplets_share_the_crop_and_tasks_are_balanced(tmp_path):
    sources = SOURCES + [{'task': 'derain', 'layout': 'synthetic',
                          'dataroot': os.path.join(SAMPLES, 'test')}]  # 1 image vs 5
    fake_medium(str(tmp_path), sources)
    ds = QualityTierDataset(dict(phase='train', sources=sources, medium_root=str(tmp_path), gt_size=32))
    # denoise: 5 photos x 3 sigmas; the others are repeated up to that
    assert ds.task_counts() == {'denoise': 15, 'dehaze': 15, 'lowlight': 15, 'derain': 15}
    np.random.seed(0)
    for i in range(0, len(ds), 3):
        s = ds[i]
        assert s['lq'].shape == s['medium'].shape == s['gt'].shape == (3, 32, 32)
        assert torch.allclose(s['medium'], s['lq'], atol=0.5 / 255 + 1e-6)  # same window
        assert s['medium_path'].endswith('.png') and s['task'] in ('denoise', 'dehaze', 'lowlight', 'derain')


def test_triplets_under_the_crop_are_upscaled_not_refused(tmp_path):
    from tests.conftest import random_image, write_image

    write_image(str(tmp_path / 'small' / 'a.png'), random_image(40, 48, 0))  # under 64
    sources = [{'task': 'dehaze', 'layout': 'synthetic', 'dataroot': str(tmp_path / 'small')}]
    fake_medium(str(tmp_path / 'medium'), sources)
    ds = QualityTierDataset(dict(phase='train', sources=sources, medium_root=str(tmp_path / 'medium'),
                                 gt_size=64))
    np.random.seed(0)
    s = ds[0]
    assert s['lq'].shape == s['medium'].shape == s['gt'].shape == (3, 64, 64)
    assert torch.allclose(s['medium'], s['lq'], atol=1 / 255)  # the same window of each


def test_a_missing_medium_image_names_the_triplet(tmp_path):
    pairs = fake_medium(str(tmp_path))
    gone = os.path.join(str(tmp_path), pairs.sample_key(0) + '.png')
    os.remove(gone)
    with pytest.raises(FileNotFoundError, match=f'1 of {len(pairs)} triplets.*{pairs.sample_key(0)}'):
        QualityTierDataset(dict(phase='val', sources=SOURCES, medium_root=str(tmp_path)))


def test_render_restores_each_fold_with_the_other_folds_restorer_and_resumes(tmp_path):
    from perceive_ir_arch.archs import PerceiveIR
    from perceive_ir_arch.runners.render import render_medium

    nets = {}
    for fold in (0, 1):
        torch.manual_seed(fold)
        nets[fold] = PerceiveIR(**{k: v for k, v in PLAIN.items() if k != 'type'}).eval()
        torch.save({'params': nets[fold].state_dict()}, tmp_path / f'fold{fold}.pth')
    opt = {'datasets': {'train': {'type': 'MixedDegradationDataset', 'sources': SOURCES}},
           'network_g': PLAIN, 'medium_root': str(tmp_path / 'medium'),
           'restorers': {f'fold{f}': str(tmp_path / f'fold{f}.pth') for f in (0, 1)}}
    counts = render_medium(opt, torch.device('cpu'), progress=False)
    assert counts == {'written': 25, 'skipped': 0}  # 5 photos: denoise x 3 sigmas, dehaze, lowlight
    again = render_medium(opt, torch.device('cpu'), progress=False)
    assert again == {'written': 0, 'skipped': 25}
    assert not [f for _, _, fs in os.walk(tmp_path / 'medium') for f in fs if f.endswith('.tmp')]
    fold1 = MixedDegradationDataset(dict(phase='val', sources=SOURCES, fold=1))
    with torch.no_grad():
        expected = nets[0](fold1[0]['lq'][None]).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    written = cv2.imread(str(tmp_path / 'medium' / (fold1.sample_key(0) + '.png')))[..., ::-1] / 255.0
    assert np.abs(written - expected).max() <= 0.5 / 255 + 1e-4  # fold 1 by fold 0's restorer


def test_perceiver_learns_on_a_batch_and_saves_only_the_context_and_its_text(tmp_path):
    from basicsr.models import build_model

    from perceive_ir_arch.losses import CLIPQualityLoss

    fake_medium(str(tmp_path / 'medium'))
    ds = QualityTierDataset(dict(phase='train', sources=SOURCES, medium_root=str(tmp_path / 'medium'),
                                 gt_size=32))
    np.random.seed(0)
    batch = torch.utils.data.default_collate([ds[i] for i in range(len(ds))])
    opt = {'name': 's1', 'model_type': 'QualityPerceiverModel', 'num_gpu': 0, 'is_train': True,
           'dist': False, 'network_g': {'type': 'CLIPQualityPerceiver', 'clip_model': 'clip_tiny'},
           'path': {'pretrain_network_g': None, 'models': str(tmp_path), 'training_states': str(tmp_path)},
           'train': {'optim_g': {'type': 'AdamW', 'lr': 1e-2, 'weight_decay': 0},
                     'scheduler': {'type': 'MultiStepLR', 'milestones': [1000], 'gamma': 0.5}}}
    torch.manual_seed(0)
    model = build_model(opt)
    model.feed_data(batch)
    losses = []
    for it in range(1, 31):
        model.optimize_parameters(it)
        losses.append(model.get_current_log()['l_ce'])
    assert losses[-1] < 0.7 * losses[0]
    model.save(epoch=0, current_iter=30)
    saved = torch.load(tmp_path / 'net_g_30.pth', weights_only=True)
    assert sorted(saved['params']) == ['ctx', 'tokens']  # the context and its text
    # and what it needs of the perceiver that loads it
    assert saved['perceiver'] == {'clip_model': 'clip_tiny', 'n_ctx': 16, 'class_names': list(QUALITY_TIERS)}
    loss_fn = CLIPQualityLoss(clip_model='clip_tiny', prompt_file=str(tmp_path / 'net_g_30.pth'))
    assert torch.equal(loss_fn.perceiver.ctx, model.net_g.ctx.detach())
    saved['perceiver']['clip_model'] = 'ViT-B-16'  # as if learnt in another CLIP of the same width
    torch.save(saved, tmp_path / 'other.pth')
    with pytest.raises(ValueError, match=r"prompt_file: '.*other.pth' holds prompts learnt with clip_model: "
                                         r'ViT-B-16; this perceiver has clip_model: clip_tiny'):
        CLIPQualityLoss(clip_model='clip_tiny', prompt_file=str(tmp_path / 'other.pth'))


def _real_options(name):
    import yaml

    from tests.conftest import REPO
    with open(os.path.join(REPO, 'options', name)) as f:
        return yaml.safe_load(f)


def _small(opt, iters):
    """The real option file, shrunk: bundled photos, tiny parts, a few iterations."""
    opt['num_gpu'] = 0
    for d in opt['datasets'].values():
        d['sources'] = [dict(s, dataroot=os.path.join(SAMPLES, 'train')) for s in SOURCES]
        d.update(num_worker_per_gpu=0, batch_size_per_gpu=2)
        if d.get('gt_size'):
            d['gt_size'] = 32
    opt['train'].update(total_iter=iters, scheduler=dict(opt['train']['scheduler'], periods=[iters]))
    opt['logger'].update(print_freq=1, save_checkpoint_freq=iters, use_tb_logger=False)
    return opt


def test_stage1_through_the_runner_with_the_real_option_files(tmp_path):
    """1a twice (one per fold), 1b, 1c, then stage 2's CLIP loss reads the prompts."""
    from perceive_ir_arch.losses import CLIPQualityLoss
    from perceive_ir_arch.runners.render import render_medium

    root = str(tmp_path)
    medium = _small(_real_options('train_medium_restorer.yml'), 2)
    medium['network_g'] = PLAIN
    path = write_yaml(os.path.join(root, 'medium.yml'), medium)
    for fold in (0, 1):
        run_python(['-m', 'perceive_ir_arch.train', '-opt', path, '--force_yml',
                    f'datasets:train:fold={fold}', f'name=MediumRestorer_fold{fold}'], cwd=root)

    render = _real_options('render_medium.yml')
    render['datasets']['train']['sources'] = [dict(s, dataroot=os.path.join(SAMPLES, 'train')) for s in SOURCES]
    render['network_g'] = PLAIN
    render['medium_root'] = os.path.join(root, 'medium')
    render['restorers'] = {k: os.path.join(root, v) for k, v in render['restorers'].items()}
    assert render_medium(render, torch.device('cpu'), progress=False)['written'] == 25

    perceiver = _small(_real_options('train_quality_perceiver.yml'), 4)
    for d in perceiver['datasets'].values():
        d['medium_root'] = render['medium_root']
    perceiver['network_g'].update(clip_model='clip_tiny', clip_pretrained=None)
    perceiver['val']['val_freq'] = 2
    run_python(['-m', 'perceive_ir_arch.train', '-opt',
                write_yaml(os.path.join(root, 'perceiver.yml'), perceiver)], cwd=root)
    log = open(next((tmp_path / 'experiments' / 'QualityPerceiver').glob('train_*.log'))).read()
    assert 'tier accuracy' in log and 'l_ce' in log
    prompts = tmp_path / 'experiments' / 'QualityPerceiver' / 'models' / 'net_g_latest.pth'
    assert prompts.stat().st_size < 100_000
    CLIPQualityLoss(clip_model='clip_tiny', prompt_file=str(prompts))


def test_overrides_reach_nested_blocks_and_list_items():
    from perceive_ir_arch.runners.options import apply_override, through_list

    opt = {'network_g': {'type': 'PerceiveIR', 'dim': 48}, 'restorers': {'fold0': 'a.pth'},
           'train': {'dpl_opt': {'proxies': [{'network': {'type': 'PerceiveIR'}}]}}}
    for entry in ('network_g:dim=8', 'network_g:num_blocks=[1, 1, 1, 1]', 'restorers:fold0=b.pth',
                  'network_g:semantic_pretrained=~', 'train:dpl_opt:proxies:0:network:dim=8'):
        apply_override(opt, entry)
    assert opt == {'network_g': {'type': 'PerceiveIR', 'dim': 8, 'num_blocks': [1, 1, 1, 1],
                                 'semantic_pretrained': None}, 'restorers': {'fold0': 'b.pth'},
                   'train': {'dpl_opt': {'proxies': [{'network': {'type': 'PerceiveIR', 'dim': 8}}]}}}
    assert through_list('train:dpl_opt:proxies:0:network:dim=8') and not through_list('network_g:dim=8')
    with pytest.raises(SystemExit, match="'netwrk_g' is not a block of the option file"):
        apply_override(opt, 'netwrk_g:dim=8')
    with pytest.raises(SystemExit, match="'3' is not a block"):
        apply_override(opt, 'train:dpl_opt:proxies:3:network:dim=8')

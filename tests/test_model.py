"""PerceiveIRModel: optimizer, loss terms, autocast, other BasicSR networks."""
from __future__ import annotations

import os

import pytest
import torch

from tests.conftest import TINY


def model_opt(tmp_path, network=None, **train):
    return {
        'name': 'unit', 'model_type': 'PerceiveIRModel', 'num_gpu': 0, 'is_train': True,
        'dist': False, 'scale': 1, 'network_g': network or dict(TINY, type='PerceiveIR'),
        'path': {'pretrain_network_g': None, 'models': str(tmp_path), 'training_states': str(tmp_path)},
        'train': dict({'ema_decay': 0,
                       'optim_g': {'type': 'AdamW', 'lr': 2e-3, 'weight_decay': 1e-4, 'betas': [0.9, 0.999]},
                       'scheduler': {'type': 'CosineAnnealingRestartLR', 'periods': [100], 'eta_min': 1e-6},
                       'pixel_opt': {'type': 'L1Loss', 'loss_weight': 1.0},
                       'contrastive_opt': {'type': 'DegradationContrastiveLoss', 'loss_weight': 0.1}},
                      **train),
    }


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    gt = torch.rand(4, 3, 16, 16, generator=g)
    lq = (gt * 0.3).clamp(0, 1)
    return {'lq': lq, 'gt': gt, 'lq_pos': lq.flip(-1), 'task_id': torch.tensor([0, 1, 2, 4])}


def test_adamw_and_every_loss_term_is_logged(tmp_path):
    from basicsr.models import build_model

    model = build_model(model_opt(tmp_path, clip_quality_opt={
        'type': 'CLIPQualityLoss', 'loss_weight': 0.05, 'clip_model': 'clip_tiny'}))
    assert type(model.optimizer_g) is torch.optim.AdamW
    assert model.optimizer_g.defaults['weight_decay'] == 1e-4
    model.feed_data(batch())
    model.optimize_parameters(1)
    log = model.get_current_log()
    assert set(log) == {'l_pix', 'l_cl', 'l_clip', 'l_total'}
    assert log['l_total'] == pytest.approx(log['l_pix'] + log['l_cl'] + log['l_clip'], rel=1e-5)
    assert 0 <= log['l_clip'] <= 0.05
    # frozen CLIP stays out of what BasicSR optimises and saves
    optimised = sum(p.numel() for g in model.optimizer_g.param_groups for p in g['params'])
    assert optimised == sum(p.numel() for p in model.net_g.parameters())


def test_training_steps_lower_the_loss_and_bf16_autocast_runs_on_cpu(tmp_path):
    from basicsr.models import build_model

    torch.manual_seed(0)
    model = build_model(model_opt(tmp_path, autocast='bf16', grad_clip=1.0))
    model.feed_data(batch())
    first = None
    for it in range(1, 16):
        model.optimize_parameters(it)
        first = first if first is not None else model.get_current_log()['l_pix']
    last = model.get_current_log()
    assert torch.isfinite(torch.tensor(list(last.values()))).all()
    assert last['l_pix'] < 0.7 * first


def test_contrastive_term_without_positive_crop_is_named(tmp_path):
    from basicsr.models import build_model

    model = build_model(model_opt(tmp_path))
    data = batch()
    del data['lq_pos']
    model.feed_data(data)
    with pytest.raises(KeyError, match='positive_crop: true'):
        model.optimize_parameters(1)


def test_any_basicsr_network_trains_and_guidance_terms_are_skipped(tmp_path):
    from basicsr.models import build_model

    net = {'type': 'RRDBNet', 'num_in_ch': 3, 'num_out_ch': 3, 'num_feat': 8, 'num_block': 1,
           'num_grow_ch': 4, 'scale': 1}
    model = build_model(model_opt(tmp_path, network=net))
    assert model.cri_cl is None
    model.feed_data(batch())
    model.optimize_parameters(1)
    assert set(model.get_current_log()) == {'l_pix', 'l_total'}


def test_unknown_optimizer_is_named_with_a_suggestion(tmp_path):
    from basicsr.models import build_model

    opt = model_opt(tmp_path)
    opt['train']['optim_g']['type'] = 'AdamWW'
    with pytest.raises(ValueError, match="Did you mean 'AdamW'"):
        build_model(opt)


def test_dpl_term_probe_and_its_resume_state(tmp_path):
    import os

    from basicsr.models import build_model

    from perceive_ir_arch.archs import PerceiveIR
    from tests.conftest import SAMPLES

    proxy = tmp_path / 'proxy.pth'
    torch.save({'params': PerceiveIR(**TINY).state_dict()}, proxy)
    opt = model_opt(tmp_path, dpl_opt={
        'type': 'DifficultyAdaptivePerceptualLoss', 'loss_weight': 0.1, 'probe_crops': 4,
        'probe_every': 2, 'proxies': [{'network': dict(TINY, type='PerceiveIR'),
                                       'checkpoint': str(proxy), 'tasks': ['denoise']}]})
    opt['datasets'] = {'train': {
        'name': 'samples', 'type': 'MixedDegradationDataset', 'phase': 'train', 'gt_size': 16,
        'sources': [{'task': t, 'layout': 'synthetic', 'dataroot': os.path.join(SAMPLES, 'train')}
                    for t in ('denoise', 'lowlight')], 'batch_size_per_gpu': 4}}
    model = build_model(opt)
    assert {t: len(c[0]) for t, c in model.probe.crops.items()} == {'denoise': 4, 'lowlight': 4}
    model.feed_data(batch())
    for it in (1, 2, 3):
        model.optimize_parameters(it)
    assert 'l_dpl' in model.get_current_log() and model.next_probe == 5
    rho = dict(model.probe.rho)
    assert set(rho) == {'denoise', 'lowlight'} and all(0 < v < 60 for v in rho.values())

    model.save_training_state(epoch=0, current_iter=3)
    state = torch.load(tmp_path / '3.state', weights_only=True)  # no pickled code needed
    assert state['perceive_ir']['rho'] == rho and state['perceive_ir']['next_probe'] == 5
    fresh = build_model(opt)
    fresh.resume_training(state)
    assert fresh.probe.rho == rho and fresh.next_probe == 5
    assert not [p for p in os.listdir(tmp_path) if p.endswith('.tmp')]
    # rho: one mean over all probe crops (the release), or each task's own
    task_id = torch.tensor([0, 4, 4])
    mean = (rho['denoise'] + rho['lowlight']) / 2
    assert torch.allclose(fresh.probe.rho_for(task_id, 3, torch.device('cpu')), torch.full((3,), mean))
    fresh.probe.mode = 'per_task'
    assert torch.allclose(fresh.probe.rho_for(task_id, 3, torch.device('cpu')),
                          torch.tensor([rho['denoise'], rho['lowlight'], rho['lowlight']]))


def test_full_loss_goes_down_on_cpu(tmp_path):
    import os

    from basicsr.models import build_model

    from tests.conftest import SAMPLES

    torch.manual_seed(0)
    opt = model_opt(tmp_path, clip_quality_opt={'type': 'CLIPQualityLoss', 'loss_weight': 0.05,
                                                'clip_model': 'clip_tiny'},
                    dpl_opt={'type': 'DifficultyAdaptivePerceptualLoss', 'loss_weight': 0.1,
                             'probe_crops': 2})
    opt['datasets'] = {'train': {
        'name': 'samples', 'type': 'MixedDegradationDataset', 'phase': 'train', 'gt_size': 16,
        'sources': [{'task': 'lowlight', 'layout': 'synthetic', 'dataroot': os.path.join(SAMPLES, 'train')}],
        'batch_size_per_gpu': 4}}
    model = build_model(opt)
    model.feed_data(batch())
    totals = []
    for it in range(1, 13):
        model.optimize_parameters(it)
        totals.append(model.get_current_log()['l_total'])
    log = model.get_current_log()
    assert set(log) == {'l_pix', 'l_cl', 'l_clip', 'l_dpl', 'l_total'}
    assert sum(totals[-3:]) < 0.8 * sum(totals[:3]), totals


def test_resumed_model_gives_the_same_next_iteration_loss(tmp_path):
    """Everything a step depends on (weights, EMA, AdamW moments, scheduler, probe) is in
    the checkpoint + training state: a rebuilt model continues exactly."""
    import os

    from basicsr.models import build_model

    from tests.conftest import SAMPLES

    from perceive_ir_arch.archs import PerceiveIR

    proxy = tmp_path / 'proxy.pth'
    torch.save({'params': PerceiveIR(**TINY).state_dict()}, proxy)

    def options(pretrain=None):
        opt = model_opt(tmp_path, ema_decay=0.9,
                        clip_quality_opt={'type': 'CLIPQualityLoss', 'loss_weight': 0.05,
                                          'clip_model': 'clip_tiny'},
                        dpl_opt={'type': 'DifficultyAdaptivePerceptualLoss', 'loss_weight': 0.1,
                                 'probe_crops': 2, 'probe_every': 10,
                                 'proxies': [{'network': dict(TINY, type='PerceiveIR'),
                                              'checkpoint': str(proxy)}]})
        opt['datasets'] = {'train': {
            'name': 'samples', 'type': 'MixedDegradationDataset', 'phase': 'train', 'gt_size': 16,
            'sources': [{'task': t, 'layout': 'synthetic', 'dataroot': os.path.join(SAMPLES, 'train')}
                        for t in ('denoise', 'lowlight')], 'batch_size_per_gpu': 4}}
        opt['path'].update(pretrain_network_g=pretrain, strict_load_g=True)
        return opt

    def step(model, it):
        model.update_learning_rate(it)
        model.feed_data(batch(seed=it))
        model.optimize_parameters(it)
        return model.get_current_log()

    torch.manual_seed(0)
    straight = build_model(options())
    for it in (1, 2, 3):
        step(straight, it)
    straight.save(epoch=0, current_iter=3)
    expected = [step(straight, it) for it in (4, 5)]

    state = torch.load(tmp_path / '3.state', weights_only=True)
    resumed = build_model(options(pretrain=str(tmp_path / 'net_g_3.pth')))
    resumed.resume_training(state)
    got = [step(resumed, it) for it in (4, 5)]  # rho: measured at iteration 1, restored
    for a, b in zip(got, expected):
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == pytest.approx(b[k], rel=1e-5, abs=1e-7), k


@pytest.mark.parametrize('autocast', [None, 'bf16'])
def test_a_nonfinite_loss_stops_training_naming_iteration_term_and_images(tmp_path, autocast):
    from basicsr.models import build_model

    model = build_model(model_opt(tmp_path, autocast=autocast))
    data = dict(batch(), lq_path=['a/0.png', 'a/1.png', 'b/2.png', 'c/3.png'])
    data['gt'] = data['gt'].clone()
    data['gt'][2, 0, 0, 0] = float('nan')  # one bad target pixel
    before = [p.detach().clone() for p in model.net_g.parameters()]
    model.feed_data(data)
    with pytest.raises(FloatingPointError, match=r'iteration 7: the loss is not finite \(l_pix = nan.*'
                                                 r'batch: a/0.png, a/1.png, b/2.png, c/3.png'):
        model.optimize_parameters(7)
    assert all(torch.equal(a, b) for a, b in zip(before, model.net_g.parameters()))


def test_nonfinite_skip_leaves_the_weights_and_training_goes_on(tmp_path):
    from basicsr.models import build_model

    model = build_model(model_opt(tmp_path, nonfinite='skip'))
    bad = batch()
    bad['lq'] = bad['lq'].clone()
    bad['lq'][0, 0, 0, 0] = float('inf')
    before = [p.detach().clone() for p in model.net_g.parameters()]
    model.feed_data(bad)
    model.optimize_parameters(1)
    assert model.skipped_steps == 1
    assert all(torch.equal(a, b) for a, b in zip(before, model.net_g.parameters()))
    model.feed_data(batch())
    model.optimize_parameters(2)
    assert torch.isfinite(torch.tensor(model.get_current_log()['l_total']))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.net_g.parameters()))
    with pytest.raises(ValueError, match='train.nonfinite'):
        build_model(model_opt(tmp_path, nonfinite='ignore'))


def test_the_best_mean_validation_psnr_is_kept_and_survives_resume(tmp_path):
    from basicsr.models import build_model

    opt = model_opt(tmp_path)
    opt['datasets'] = {'val_1': {'name': 'a'}, 'val_2': {'name': 'b'}}
    model = build_model(opt)
    best = str(tmp_path / 'net_g_best.pth')
    assert not model.note_validation('a', 20.0, 5) and not os.path.exists(best)  # b not yet in
    assert model.note_validation('b', 30.0, 5) and model.best.state_dict() == {'psnr': 25.0, 'iter': 5}
    saved = torch.load(best, weights_only=True)['params']
    assert all(torch.equal(saved[k], v) for k, v in model.net_g.state_dict().items())
    model.feed_data(batch())
    model.optimize_parameters(6)  # the weights change; a worse mean keeps the old file
    assert not model.note_validation('a', 19.0, 10) | model.note_validation('b', 30.0, 10)
    assert torch.equal(torch.load(best, weights_only=True)['params']['embed.weight'], saved['embed.weight'])
    model.save_training_state(epoch=0, current_iter=10)
    fresh = build_model(opt)
    fresh.resume_training(torch.load(tmp_path / '10.state', weights_only=True))
    assert fresh.best.state_dict() == {'psnr': 25.0, 'iter': 5}
    fresh.note_validation('a', 22.0, 15)
    assert fresh.note_validation('b', 30.0, 15) and fresh.best.state_dict() == {'psnr': 26.0, 'iter': 15}


@pytest.mark.parametrize('block,kind,home', [('pixel_opt', 'DegradationContrastiveLoss', 'contrastive_opt'),
                                             ('perceptual_opt', 'DifficultyAdaptivePerceptualLoss', 'dpl_opt')])
def test_a_plugin_loss_that_is_no_image_loss_is_refused_in_basicsr_blocks(tmp_path, block, kind, home):
    from basicsr.models import build_model

    from perceive_ir_arch.losses.placement import check_loss_blocks

    opt = model_opt(tmp_path, network=dict(TINY, type='PerceiveIR'))
    opt.update(model_type='SRModel', train=dict(opt['train'], **{block: {'type': kind}}))
    opt['train'].pop('contrastive_opt')
    if block == 'perceptual_opt':
        opt['train'].pop('pixel_opt')
        opt['train'][block].update(vgg_pretrained=None)
    opt['train']['optim_g'] = {'type': 'Adam', 'lr': 1e-4}  # BasicSR's own optimizers
    # the plugin's runner: before anything is built
    with pytest.raises(TypeError, match=rf'train.{block}: {kind} is not an image loss .* put it in '
                                        rf'train.{home} with model_type: PerceiveIRModel'):
        check_loss_blocks(opt)
    # BasicSR's own runner: the loss refuses the first call, with the same advice
    model = build_model(opt)
    model.feed_data(batch())
    with pytest.raises(TypeError, match=rf'^{kind} is not an image loss .* put it in '
                                        rf'train.{home} with model_type: PerceiveIRModel'):
        model.optimize_parameters(1)


def test_clip_quality_loss_works_as_basicsr_pixel_opt(tmp_path):
    from basicsr.models import build_model

    from perceive_ir_arch.archs import CLIPQualityPerceiver

    prompts = str(tmp_path / 'prompts.pth')
    torch.save({'params': CLIPQualityPerceiver('clip_tiny').state_dict()}, prompts)
    opt = model_opt(tmp_path)
    opt['model_type'] = 'SRModel'
    opt['train'] = {k: v for k, v in opt['train'].items() if k != 'contrastive_opt'}
    opt['train']['perceptual_opt'] = None
    opt['train']['pixel_opt'] = {'type': 'CLIPQualityLoss', 'clip_model': 'clip_tiny', 'prompt_file': prompts}
    opt['train']['optim_g'] = {'type': 'Adam', 'lr': 1e-3}  # SRModel's own choices
    model = build_model(opt)
    model.feed_data(batch())
    model.optimize_parameters(1)
    assert 0 < model.get_current_log()['l_pix'] < 1


def test_task_label_needs_are_refused_before_the_first_iteration(tmp_path):
    from basicsr.models import build_model

    opt = model_opt(tmp_path)
    opt['datasets'] = {'train': {'type': 'PairedImageDataset', 'name': 'paired'}}
    with pytest.raises(KeyError, match=r'PairedImageDataset gives no task label per sample, which '
                                       r'train.contrastive_opt .* need'):
        build_model(opt)

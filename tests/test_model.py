"""PerceiveIRModel: optimizer, loss terms, autocast, other BasicSR networks."""
from __future__ import annotations

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

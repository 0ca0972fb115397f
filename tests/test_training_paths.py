"""The paths users train on: DataParallel refused, gradient accumulation, activation
checkpointing, and the step's memory estimate (issue 25; CPU only, no GPU needed)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch.nn.parallel import DataParallel

from perceive_ir_arch import PerceiveIR
from perceive_ir_arch.models.parallel import model_to_device
from tests.conftest import TINY
from tests.test_model import batch, model_opt

REFUSAL = ('DataParallel (num_gpu: 2 without a launcher) cannot run PerceiveIR: its replicas would share '
           'the frozen PerceiveIR.semantic_encoder across GPUs. Train on several GPUs with DDP, one process '
           'per GPU: torchrun --nproc_per_node=2 -m perceive_ir_arch.train -opt OPTIONS.yml --launcher pytorch '
           '(or set num_gpu: 1)')


def test_data_parallel_is_refused_for_networks_with_frozen_parts_and_kept_for_others():
    model = SimpleNamespace(device=torch.device('cpu'), opt={'dist': False, 'num_gpu': 2})
    with pytest.raises(RuntimeError) as err:
        model_to_device(model, PerceiveIR(**TINY))
    assert str(err.value) == REFUSAL
    # a network without frozen parts runs under DataParallel as BasicSR would run it
    plain = PerceiveIR(**dict(TINY, semantic_guidance=False))
    assert isinstance(model_to_device(model, plain), DataParallel)
    # BasicSR's own models (no plugin runner): replicating the network fails with the same words
    with pytest.raises(RuntimeError, match='torchrun --nproc_per_node=N'):
        PerceiveIR(**TINY)._replicate_for_data_parallel()


def _gradients(model, data) -> dict[str, torch.Tensor]:
    model.optimizer_g.step = lambda *a, **k: None  # keep the gradients, leave the weights
    model.feed_data(data)
    model.optimize_parameters(1)
    return {n: p.grad.clone() for n, p in model.net_g.named_parameters() if p.grad is not None}


def test_accumulated_gradients_equal_one_large_batch_for_per_sample_terms(tmp_path):
    from basicsr.models import build_model

    opt = model_opt(tmp_path, contrastive_opt=None, clip_quality_opt={
        'type': 'CLIPQualityLoss', 'loss_weight': 0.05, 'clip_model': 'clip_tiny'})
    model = build_model(opt)
    whole = _gradients(model, batch())
    log_whole = model.get_current_log()
    for n in (2, 4):
        model.accumulate = n
        parts = _gradients(model, batch())
        assert parts.keys() == whole.keys() and len(whole) > 50
        for name in whole:
            torch.testing.assert_close(parts[name], whole[name], rtol=1e-4, atol=1e-7)
        log = model.get_current_log()
        assert log['l_total'] == pytest.approx(log_whole['l_total'], rel=1e-5)
    assert model.output.shape == batch()['gt'].shape
    with pytest.raises(ValueError, match=r'train.accumulate: 3 does not divide datasets.train.batch_size_per_gpu: 8'):
        opt = model_opt(tmp_path, accumulate=3)
        opt['datasets'] = {'train': {'batch_size_per_gpu': 8}}
        build_model(opt)


def test_checkpointed_gradients_equal_plain_ones_and_keep_less():
    plain = PerceiveIR(**TINY).train()
    ckpt = PerceiveIR(**dict(TINY, checkpointing=True)).train()
    ckpt.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 24, 32, generator=torch.Generator().manual_seed(0))
    grads = []
    for net in (plain, ckpt):
        net.zero_grad()
        (net(x) - x).abs().mean().backward()
        grads.append({n: p.grad for n, p in net.named_parameters()})
    for name, g in grads[0].items():
        torch.testing.assert_close(grads[1][name], g, rtol=1e-5, atol=1e-8)
    assert _kept_bytes(ckpt, x) < _kept_bytes(plain, x) / 3
    with torch.no_grad():  # inference is not affected
        assert torch.equal(ckpt.eval()(x), plain.eval()(x))


def _kept_bytes(net, x) -> int:
    """Bytes of the tensors autograd keeps for the backward pass (storages counted once)."""
    storages = {}

    def pack(t):
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        net(x)
    return sum(storages.values())


@pytest.mark.parametrize('checkpointing', [False, True])
@pytest.mark.parametrize('shape', [
    {},  # the release's widths (dim 48, blocks 4/6/6/8)
    # and networks the constants were not fitted to
    dict(dim=28, num_blocks=[3, 1, 2, 5], num_refinement_blocks=2, heads=[1, 1, 2, 2]),
    dict(dim=20, num_blocks=[1, 4, 1, 1], num_refinement_blocks=0, heads=[1, 2, 2, 2]),
])
def test_the_networks_training_memory_estimate_matches_what_autograd_keeps(checkpointing, shape):
    # per-pixel growth between two sizes, so the weights autograd also keeps cancel out
    net = PerceiveIR(semantic_encoder='dinov2_tiny', checkpointing=checkpointing, **shape).train()
    small, large = torch.rand(1, 3, 48, 48), torch.rand(1, 3, 96, 96)
    measured = _kept_bytes(net, large) - _kept_bytes(net, small)
    estimated = net.training_bytes(1, 96 * 96) - net.training_bytes(1, 48 * 48)
    assert estimated == pytest.approx(measured, rel=0.15)

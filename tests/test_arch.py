"""PerceiveIR: shapes, parameter count, guidance flags, the frozen encoder, checkpoints."""
from __future__ import annotations

import itertools

import pytest
import torch

from perceive_ir_arch.archs import PerceiveIR
from perceive_ir_arch.backbones import SEMANTIC_ENCODERS
from perceive_ir_arch.archs.layers import EnhancedTransformerBlock, TransformerBlock
from tests.conftest import TINY


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_default_parameter_count_matches_release_on_meta_device():
    with torch.device('meta'):
        net = PerceiveIR()
    # the count of the authors' release layer shapes (every convolution has a bias)
    assert n_params(net) == 33_901_111
    assert n_params(net.semantic_encoder) == 85_724_928  # DINOv2 ViT-B/14 at 224, frozen
    assert all(p.device.type == 'meta' for p in net.parameters())


def test_semantic_guidance_costs_exactly_the_pgm_input_width():
    with torch.device('meta'):
        full, no_sem = PerceiveIR(), PerceiveIR(semantic_guidance=False)
    # each level's PGM first linear has 768 more inputs: 768 * 2C for C = 48..384
    assert n_params(full) - n_params(no_sem) == 768 * 2 * (48 + 96 + 192 + 384)


@pytest.mark.parametrize('size', [(1, 3, 13, 29), (2, 3, 8, 8), (1, 3, 5, 3), (1, 3, 1, 1), (1, 3, 33, 17)])
def test_output_has_input_size(size):
    net = PerceiveIR(**TINY).eval()
    x = torch.rand(*size)
    with torch.no_grad():
        assert net(x).shape == x.shape


VARIANTS = list(itertools.product([True, False], [True, False], ['release', 'airnet'],
                                  ['release', 'figure'], ['joint', 'separate']))


@pytest.mark.parametrize('sem,deg,cfe,etb,pgm', VARIANTS)
def test_every_variant_runs_forward_and_backward(sem, deg, cfe, etb, pgm):
    net = PerceiveIR(**TINY, semantic_guidance=sem, degradation_guidance=deg, cfe_variant=cfe,
                     etb_variant=etb, pgm_variant=pgm)
    x = torch.rand(2, 3, 16, 24)
    net(x).square().mean().backward()
    assert all(p.grad is not None for p in net.parameters()), 'every trainable part is used'


def test_both_flags_off_is_the_plain_backbone():
    net = PerceiveIR(**TINY, semantic_guidance=False, degradation_guidance=False)
    assert net.semantic_encoder is None and net.cfe is None and not net.guided
    assert not any(isinstance(m, EnhancedTransformerBlock) for m in net.modules())
    names = [n for n, _ in net.named_parameters()]
    assert not any('pgm' in n or 'cfe' in n or 'cross_attn' in n for n in names)
    blocks = [m for m in net.modules() if isinstance(m, TransformerBlock)]
    # encoders 3 + latent 1 + decoders 3 + refinement 1 with TINY's one block each
    assert len(blocks) == 8


def test_guidance_inputs_change_the_output():
    torch.manual_seed(0)
    net = PerceiveIR(**TINY).eval()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        sem = net.semantic_features(x)
        z = net.degradation_vector(x)
        base = net(x)
        assert torch.allclose(base, net(x, semantic=sem, z=z), atol=1e-6)
        assert not torch.allclose(base, net(x, semantic=sem + 1.0, z=z), atol=1e-4)
        assert not torch.allclose(base, net(x, semantic=sem, z=-z), atol=1e-4)


def test_degradation_vector_is_unit_length():
    net = PerceiveIR(**TINY)
    z = net.degradation_vector(torch.rand(3, 3, 20, 20))
    assert z.shape == (3, TINY['degradation_dim'])
    assert torch.allclose(z.norm(dim=1), torch.ones(3), atol=1e-5)
    with pytest.raises(RuntimeError, match='degradation_guidance'):
        PerceiveIR(**TINY, degradation_guidance=False).degradation_vector(torch.rand(1, 3, 8, 8))


@pytest.mark.parametrize('antialias', [False, True])  # the release: plain bicubic
def test_semantic_tokens_come_from_the_listed_blocks_before_the_final_norm(antialias):
    net = PerceiveIR(**dict(TINY, semantic_antialias=antialias))
    enc = net.semantic_encoder
    x = torch.rand(2, 3, 40, 30)
    vit = enc.vit
    # independent path: resize, normalise, run the blocks by hand, read the class token
    y = torch.nn.functional.interpolate(x, size=(enc.img_size,) * 2, mode='bicubic',
                                        align_corners=False, antialias=antialias)
    y = (y - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor(
        [0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        t = vit.norm_pre(vit.patch_drop(vit._pos_embed(vit.patch_embed(y))))
        expected = []
        for i, blk in enumerate(vit.blocks):
            t = blk(t)
            if i in SEMANTIC_ENCODERS['dinov2_tiny'].blocks:
                expected.append(t[:, 0])
    assert torch.allclose(net.semantic_features(x), torch.stack(expected, 1), atol=1e-5)


@pytest.mark.parametrize('name', ['dinov2_tiny', 'dinov2_vits14'])
def test_a_random_semantic_encoder_sees_the_image(name):
    # DINOv2's LayerScale starts at 1e-5: built randomly as it is, its class tokens are the
    # same for every image (relative change 4e-6 to 3e-4), and a stand-in guides with a constant
    from perceive_ir_arch.backbones.dinov2 import build_semantic_encoder

    torch.manual_seed(0)
    tokens = build_semantic_encoder(name)(torch.stack([torch.rand(3, 64, 64), torch.zeros(3, 64, 64)]))
    change = (tokens[0] - tokens[1]).norm(dim=-1) / tokens[0].norm(dim=-1)
    assert (change > 0.1).all(), change


def test_frozen_encoder_is_out_of_state_dict_parameters_and_training():
    net = PerceiveIR(**TINY)
    enc = net.semantic_encoder
    assert not any(k.startswith('semantic') or '.vit.' in k for k in net.state_dict())
    assert all(p.requires_grad for p in net.parameters())
    ids = {id(p) for p in net.parameters()}
    assert not any(id(p) in ids for p in enc.parameters())
    net.train()
    assert not enc.training and not any(p.requires_grad for p in enc.parameters())
    net(torch.rand(1, 3, 16, 16)).mean().backward()
    assert all(p.grad is None for p in enc.parameters())


def test_to_moves_and_casts_the_frozen_encoder():
    net = PerceiveIR(**TINY).double()
    assert all(p.dtype == torch.float64 for p in net.semantic_encoder.parameters())
    assert net(torch.rand(1, 3, 8, 8, dtype=torch.float64)).dtype == torch.float64


def test_a_second_network_shares_the_frozen_encoder():
    a, b = PerceiveIR(**TINY), PerceiveIR(**TINY)
    assert a.semantic_encoder is b.semantic_encoder


def test_random_encoder_is_the_same_in_every_build():
    a = PerceiveIR(**TINY).semantic_encoder
    state = {k: v.clone() for k, v in a.state_dict().items()}
    del a
    import gc
    gc.collect()
    b = PerceiveIR(**TINY).semantic_encoder
    assert all(torch.equal(state[k], v) for k, v in b.state_dict().items())


def test_checkpoint_round_trip_through_basicsr(tmp_path):
    from basicsr.models.base_model import BaseModel

    torch.manual_seed(1)
    net = PerceiveIR(**TINY).eval()
    path = tmp_path / 'net_g.pth'
    torch.save({'params': net.state_dict()}, path)
    fresh = PerceiveIR(**TINY).eval()
    # BasicSR's own loader, strict: every key present, nothing extra
    model = BaseModel.__new__(BaseModel)
    model.opt = {'dist': False}
    BaseModel.load_network(model, fresh, str(path), strict=True, param_key='params')
    x = torch.rand(1, 3, 19, 23)
    with torch.no_grad():
        assert torch.equal(net(x), fresh(x))


def test_missing_semantic_weights_fail_with_option_file_and_source(tmp_path):
    missing = tmp_path / 'dinov2_vitb14.safetensors'
    with pytest.raises(FileNotFoundError) as err:
        PerceiveIR(semantic_pretrained=str(missing))
    msg = str(err.value)
    assert 'network_g.semantic_pretrained' in msg and str(missing) in msg
    assert 'huggingface.co/timm/vit_base_patch14_dinov2' in msg


def test_semantic_weights_load_from_a_local_file(tmp_path):
    import timm

    donor = timm.create_model('vit_small_patch14_dinov2', pretrained=False, img_size=28,
                              **SEMANTIC_ENCODERS['dinov2_tiny'].timm_kwargs)
    with torch.no_grad():
        for p in donor.parameters():
            p.add_(torch.randn_like(p))
    path = tmp_path / 'tiny_vit.pth'
    torch.save(donor.state_dict(), path)
    net = PerceiveIR(**dict(TINY, semantic_pretrained=str(path)))
    loaded = net.semantic_encoder.vit.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in donor.state_dict().items())


@pytest.mark.parametrize('name', sorted(SEMANTIC_ENCODERS))
def test_every_semantic_encoder_builds(name):
    with torch.device('meta'):
        net = PerceiveIR(semantic_encoder=name)
    spec = SEMANTIC_ENCODERS[name]
    assert net.semantic_encoder.dim == net.semantic_encoder.vit.embed_dim
    assert len(spec.blocks) == 4 and max(spec.blocks) < len(net.semantic_encoder.vit.blocks)


@pytest.mark.parametrize('bad,match', [
    (dict(num_blocks=[1, 1, 1]), 'num_blocks'),
    (dict(etb_variant='paper'), 'etb_variant'),
    (dict(cfe_variant='x'), 'cfe_variant'),
    (dict(pgm_variant='x'), 'pgm_variant'),
    (dict(semantic_encoder='dinov3'), 'unknown semantic encoder'),
    (dict(heads=[1, 1, 3, 2]), 'divisible'),
])
def test_bad_architecture_options_are_named(bad, match):
    with pytest.raises((ValueError, KeyError), match=match):
        PerceiveIR(**dict(TINY, **bad))


def test_basicsr_srmodel_optimises_saves_and_averages_only_the_restorer(tmp_path):
    from basicsr.models import build_model

    opt = {
        'name': 'unit', 'model_type': 'SRModel', 'num_gpu': 0, 'is_train': True, 'dist': False,
        'scale': 1, 'network_g': dict(TINY, type='PerceiveIR'),
        'path': {'pretrain_network_g': None, 'models': str(tmp_path), 'training_states': str(tmp_path)},
        'train': {'ema_decay': 0.999, 'optim_g': {'type': 'Adam', 'lr': 1e-3},
                  'scheduler': {'type': 'MultiStepLR', 'milestones': [10], 'gamma': 0.5},
                  'pixel_opt': {'type': 'L1Loss', 'loss_weight': 1.0}},
    }
    model = build_model(opt)
    net, ema = model.net_g, model.net_g_ema
    optimised = sum(p.numel() for g in model.optimizer_g.param_groups for p in g['params'])
    assert optimised == n_params(net)
    assert ema.semantic_encoder is net.semantic_encoder  # one frozen copy, not two
    assert set(ema.state_dict()) == set(net.state_dict())
    model.feed_data({'lq': torch.rand(2, 3, 16, 16), 'gt': torch.rand(2, 3, 16, 16)})
    model.optimize_parameters(1)
    model.save(epoch=0, current_iter=1)
    saved = torch.load(tmp_path / 'net_g_1.pth', weights_only=True)
    assert set(saved) == {'params', 'params_ema'}
    assert set(saved['params']) == set(net.state_dict())


@pytest.mark.parametrize('antialias', [False, True])
def test_a_shrunk_copy_gives_the_whole_images_tokens(antialias):
    enc = PerceiveIR(**dict(TINY, semantic_antialias=antialias)).semantic_encoder
    x = torch.rand(1, 3, 301, 517, generator=torch.Generator().manual_seed(0))
    small = enc.shrink(x)
    assert max(small.shape[-2:]) <= 4 * enc.img_size
    torch.testing.assert_close(enc(small), enc(x), atol=1e-3 if antialias else 1e-6, rtol=0)

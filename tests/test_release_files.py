"""The authors' published files (House-yuyu/Perceive-IR c7f79d47) through every entry point.

Each file is built in the release's exact container from ``tests/release_reference.py``,
whose module tree gives the release's key names and which computes the release's function
without sharing code with the plugin; the DINOv2 file in transformers' published layout is
checked against transformers' own model.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from perceive_ir_arch import PerceiveIR, create_restorer
from perceive_ir_arch.archs.perceive_ir_release import release_to_perceive_ir
from perceive_ir_arch.backbones.dinov2 import SemanticEncoder
from perceive_ir_arch.inference.cli import main
from perceive_ir_arch.pretrained import PretrainedFileError, load_network_file, locate, read_trained
from tests import published_files as pf
from tests.conftest import write_image
from tests.release_reference import ReleaseMedium, ReleasePerceiveIR

TASKS3 = ['denoise', 'dehaze', 'derain']
SHAPE = dict(dim=8, blocks=(1, 2, 1, 2), heads=(1, 1, 2, 2), refinement=1)
CONFIG = {'name': 'perceiveIR_proxy_all_500k_bs8', 'seed': 0,
          'data': {'root': 'data/AiOIR', 'tasks': TASKS3, 'patch_size': 256},
          'model': {'dim': 8, 'blocks': [1, 2, 1, 2], 'heads': [1, 1, 2, 2], 'refinement_blocks': 1},
          'train': {'total_iters': 500000}}


def _randomise(net: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Weights a trained network could have: norms and temperatures near 1, the rest small."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            noise = torch.randn(p.shape, generator=g) * 0.05
            near_one = name.endswith('temperature') or ('body.weight' in name and p.dim() == 1)
            p.copy_(noise + 1 if near_one else noise)
    return net.eval()


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('release')
    state = pf.dinov2_state(**pf.TINY_DINOV2)
    dinov2 = pf.write_dinov2_transformers(str(root / 'weight' / 'dinov2-base'), state)
    timm_file = pf.write_dinov2_timm(str(root / 'dinov2_tiny.safetensors'), state)
    stage2 = _randomise(ReleasePerceiveIR(semantic_dim=16, **SHAPE), 1)
    medium = [_randomise(ReleaseMedium(**SHAPE), 10 + f) for f in (0, 1)]
    aio = str(root / 'weight' / 'AIO-3D.pth')
    torch.save({'model': stage2.state_dict(), 'iteration': 420000, 'config': CONFIG}, aio)
    aio5 = str(root / 'weight' / 'AIO-5D.pth')
    torch.save({'model': stage2.state_dict(), 'iteration': 5,
                'config': dict(CONFIG, data={'tasks': TASKS3 + ['deblur', 'lowlight']})}, aio5)
    meds = []
    for held_out, net in ((1, medium[0]), (0, medium[1])):  # medium[k]: trained on fold k
        path = root / 'weight' / 'stage1' / f'holdout_{held_out}' / 'medium_020000.pth'
        path.parent.mkdir(parents=True)
        opt = torch.optim.AdamW(net.parameters())
        torch.save({'model': net.state_dict(), 'optimizer': opt.state_dict(), 'scheduler': {'last_epoch': 20000},
                    'iteration': 20000, 'heldout_fold': held_out, 'batch_size_per_gpu': 4, 'world_size': 4,
                    'task_resampling': {'denoise': 3}}, str(path))
        meds.append(str(path))
    return dict(root=str(root), dinov2=dinov2, timm=timm_file, aio=aio, aio5=aio5, medium=meds,
                stage2=stage2, medium_nets=medium)


def _tokens(dinov2: str, x: torch.Tensor) -> torch.Tensor:
    return SemanticEncoder('dinov2_tiny', dinov2)(x)


def test_the_release_names_map_one_to_one_at_full_size():
    with torch.device('meta'):
        release = ReleasePerceiveIR().state_dict()
        medium = ReleaseMedium().state_dict()
        ours = PerceiveIR(semantic_guidance=False).state_dict()  # guidance parts: below
        plain = PerceiveIR(semantic_guidance=False, degradation_guidance=False).state_dict()
    for state, expected, tensors, numbers in ((medium, plain, 770, 25_571_439), (release, None, 1156, 33_901_111)):
        renamed = release_to_perceive_ir(state)
        assert len(renamed) == len(state) == tensors
        assert sum(v.numel() for v in renamed.values()) == numbers
        if expected is not None:
            assert {k: v.shape for k, v in renamed.items()} == {k: v.shape for k, v in expected.items()}
    # stage 2: every key but the PGMs' input width (768 DINOv2 + 128 z) matches a z-only network
    renamed = release_to_perceive_ir(release)
    assert set(renamed) == set(ours)
    wrong = [k for k in ours if renamed[k].shape != ours[k].shape]
    assert wrong and all(k.endswith('pgm.mlp.0.weight') for k in wrong)
    assert all(renamed[k].shape[1] == ours[k].shape[1] + 768 for k in wrong)


def test_a_stage2_file_restores_as_the_release_network_through_every_entry_point(files, tmp_path, empty_caches):
    x = torch.rand(1, 3, 40, 48)
    with torch.no_grad():
        expected = files['stage2'](x, list(_tokens(files['dinov2'], x).unbind(1))).clamp(0, 1)

    # the Python API: the network options come from the file, DINOv2 from the flag
    restorer = create_restorer(files['aio'], device='cpu', semantic_weights=files['dinov2'])
    got = restorer.restore(x)
    assert torch.allclose(got, expected, atol=1e-5)
    # and DINOv2 by the lookup rule, from transformers' folder in the hub cache
    pf.hf_cache_file(str(empty_caches['HF_HUB_CACHE']), 'facebook/dinov2-base', 'model.safetensors',
                     os.path.join(files['dinov2'], 'model.safetensors'))
    assert locate('dinov2_vitb14', True, 'x').endswith('model.safetensors')
    os.link(files['timm'], empty_caches['PERCEIVE_IR_WEIGHTS'] / 'dinov2_tiny.safetensors')
    assert torch.equal(create_restorer(files['aio'], device='cpu').restore(x), got)
    # by its name: the authors' file in the weights folder
    os.link(files['aio'], empty_caches['PERCEIVE_IR_WEIGHTS'] / 'AIO-3D.pth')
    assert torch.equal(create_restorer('perceive_ir_3task', device='cpu').restore(x), got)

    # pack: a restorer file that restores the same
    packed = str(tmp_path / 'restorer.pth')
    assert main(['pack', '--checkpoint', files['aio'], '-o', packed]) == 0
    assert torch.equal(create_restorer(packed, device='cpu').restore(x), got)

    # the command: the photo restored as the API does
    photo = (np.random.default_rng(0).random((40, 48, 3)) * 255).astype(np.uint8)
    write_image(str(tmp_path / 'in' / 'p.png'), photo)
    assert main(['restore', str(tmp_path / 'in'), '-o', str(tmp_path / 'out'), '--weights', files['aio'],
                 '--quiet']) == 0
    import cv2
    out = cv2.imread(str(tmp_path / 'out' / 'p.png'))[..., ::-1]
    assert np.array_equal(out, restorer.restore(photo))


def test_a_stage2_file_loads_as_pretrain_network_g_of_the_test_files(files, tmp_path, empty_caches):
    from basicsr.models import build_model

    def model(published, tasks=('denoise',), path=files['aio']):
        opt = {'name': 't', 'model_type': 'PerceiveIRModel', 'num_gpu': 0, 'is_train': False, 'dist': False,
               'scale': 1, 'rank': 0, 'world_size': 1,
               'datasets': {f'test_{i}': {'name': t, 'sources': [{'task': t}]} for i, t in enumerate(tasks)},
               'network_g': dict(type='PerceiveIR', dim=8, num_blocks=[1, 2, 1, 2], heads=[1, 1, 2, 2],
                                 num_refinement_blocks=1, semantic_encoder='dinov2_tiny',
                                 semantic_pretrained=files['dinov2']),
               'path': {'pretrain_network_g': path, 'strict_load_g': True, 'param_key_g': 'params'},
               'val': {'published': published, 'metrics': {}}}
        return build_model(opt)

    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        expected = files['stage2'](x, list(_tokens(files['dinov2'], x).unbind(1)))
        assert torch.allclose(model('3task').net_g(x), expected, atol=1e-5)
    with pytest.raises(ValueError, match=r"pretrain_network_g: .*AIO-5D.pth is the authors' Perceive-IR 5-task "
                                         r".*but val.published: 3task compares with the paper's 3task model"):
        model('3task', path=files['aio5'])
    with pytest.raises(ValueError, match=r"is the authors' Perceive-IR 3-task .* which never learnt "
                                         r"\['deblur'\] that the option file tests"):
        model(None, tasks=('denoise', 'deblur'))


def test_a_wrong_or_half_release_file_gets_one_message(files, tmp_path):
    state = files['stage2'].state_dict()
    cases = {
        'no_config.pth': ({'model': state, 'optimizer': {}, 'iteration': 3},
                          "is a file of the authors' Perceive-IR release, but it is a stage-2 checkpoint "
                          'without its config'),
        'odd_config.pth': ({'model': state, 'config': dict(CONFIG, model=dict(CONFIG['model'], dim=48))},
                           'its config says model.dim: 48, its tensors 8'),
        'new_key.pth': ({'model': state, 'config': dict(CONFIG, model=dict(CONFIG['model'], window=8))},
                        "its config has model keys this project does not know: ['window']"),
    }
    for name, (data, message) in cases.items():
        torch.save(data, str(tmp_path / name))
        with pytest.raises(PretrainedFileError) as err:
            read_trained(str(tmp_path / name), '--weights')
        assert message in str(err.value) and str(err.value).startswith(f'--weights: {tmp_path / name}')
    # another architecture from the options: the file says what it needs
    net = PerceiveIR(dim=16, num_blocks=[1, 2, 1, 2], heads=[1, 1, 2, 2], num_refinement_blocks=1,
                     semantic_encoder='dinov2_tiny', semantic_pretrained=files['timm'])
    with pytest.raises(PretrainedFileError, match=r"path.pretrain_network_g: .*AIO-3D.pth is the authors' Perceive-IR "
                                                  r"3-task .* \(it needs network_g \{'type': 'PerceiveIR', 'dim': 8.*"
                                                  r"does not fit the network PerceiveIR"):
        load_network_file(net, files['aio'], 'path.pretrain_network_g')
    # a random stand-in encoder would restore with noise for guidance
    random = PerceiveIR(dim=8, num_blocks=[1, 2, 1, 2], heads=[1, 1, 2, 2], num_refinement_blocks=1,
                        semantic_encoder='dinov2_tiny')
    with pytest.raises(PretrainedFileError, match='trained with the real DINOv2; the network was built with a '
                                                  'RANDOM stand-in encoder'):
        load_network_file(random, files['aio'], 'x')


def test_medium_files_are_the_cross_fitted_proxy_in_their_places(files):
    from perceive_ir_arch.losses import Proxy

    network = {'type': 'PerceiveIR', 'semantic_guidance': False, 'degradation_guidance': False,
               'dim': 8, 'num_blocks': [1, 2, 1, 2], 'heads': [1, 1, 2, 2], 'num_refinement_blocks': 1}
    # holdout_1 was trained on fold 0: checkpoints[0]
    proxy = Proxy({'network': network, 'checkpoints': files['medium']}, 'train.dpl_opt.proxies[0]')
    x = torch.rand(4, 3, 24, 32)
    fold = torch.tensor([0, 1, 1, 0])
    with torch.no_grad():
        got = proxy(x, fold)
        for i in range(4):  # a sample of fold f: the restorer trained on the other fold
            own = files['medium_nets'][1 - fold[i]](x[i:i + 1])[0].clamp(0, 1)
            assert torch.allclose(got[i], own, atol=1e-5)
    with pytest.raises(PretrainedFileError, match=r"proxies\[0\].checkpoints\[0\]: .*holdout_0/medium_020000.pth is "
                                                  r"the authors' stage-1 medium restorer .* held out fold 0 "
                                                  r"\(trained on fold 1\).*; this place takes the restorer trained "
                                                  r'on fold 0 .* swap the two files'):
        Proxy({'network': network, 'checkpoints': files['medium'][::-1]}, 'train.dpl_opt.proxies[0]')


def test_the_release_prompt_file_scores_as_its_context(tmp_path):
    from perceive_ir_arch.archs.clip_quality_perceiver_arch import CLIPQualityPerceiver

    clip_file = pf.write_openai_torchscript(str(tmp_path / 'ViT-B-32.pt'), pf.clip_model())
    perceiver = CLIPQualityPerceiver('clip_tiny', clip_file)
    ctx = torch.randn(3, 16, 32, generator=torch.Generator().manual_seed(3)) * 0.02
    tokens = perceiver.tokens.to(torch.int32)  # the release tokenises the 16 placeholders alone
    embedded = perceiver.clip.token_embedding(tokens.long()).detach()
    learner = {'context': ctx, 'token_prefix': embedded[:, :1], 'token_suffix': embedded[:, 17:],
               'tokenized_prompts': tokens}
    path = str(tmp_path / 'quality_prompts_100000.pth')
    torch.save({'prompt_learner': learner, 'optimizer': {}, 'scheduler': {}, 'iteration': 100000,
                'quality_names': ('terrible', 'mediocre', 'excellent'), 'context_length': 16,
                'batch_size_per_gpu': 8, 'world_size': 1, 'global_batch_size': 8, 'task_balanced': False}, path)
    loaded = CLIPQualityPerceiver('clip_tiny', clip_file, prompt_file=path)
    assert torch.equal(loaded.ctx.data, ctx) and torch.equal(loaded.tokens, tokens.long())
    # the same as this project's own prompt checkpoint with that context
    own = str(tmp_path / 'own.pth')
    torch.save({'params': {'ctx': ctx, 'tokens': tokens.long()}}, own)
    image = torch.rand(2, 3, 40, 40)
    with torch.no_grad():
        expected = loaded(image)
        assert torch.equal(expected, CLIPQualityPerceiver('clip_tiny', clip_file, prompt_file=own)(image))
    # perceive-ir score takes it too
    from perceive_ir_arch.inference.scoring import create_scorer

    scorer = create_scorer(path, clip_model='clip_tiny', clip_weights=clip_file, device='cpu')
    photo = (image[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    write_image(str(tmp_path / 'p.png'), photo)
    assert main(['score', str(tmp_path / 'p.png'), '--prompts', path, '--clip-model', 'clip_tiny',
                 '--clip-weights', clip_file, '--json', str(tmp_path / 's.json'), '--quiet']) == 0
    import json
    with open(tmp_path / 's.json') as f:
        row = json.load(f)[0]
    assert row['p_excellent'] == pytest.approx(next(scorer.score_many([photo]))['p_excellent'], abs=1e-6)
    # the release's score written out: plain bicubic to CLIP's size (no antialias, no clamp),
    # OpenAI's normalisation, cosines times the CLIP file's own exp(logit_scale), softmax
    x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    x = F.interpolate(x, size=loaded.image_size, mode='bicubic', align_corners=False)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    with torch.no_grad():
        feats = F.normalize(loaded.clip.encode_image((x - mean) / std), dim=-1)
        release = (loaded.clip.logit_scale.exp() * feats @ loaded.text_features().t()).softmax(-1)[0]
    got = scorer.score(photo)
    assert float(loaded.clip.logit_scale.exp()) != pytest.approx(100.0)  # the tiny CLIP's own scale counts
    for i, tier in enumerate(('terrible', 'mediocre', 'excellent')):
        assert got[f'p_{tier}'] == pytest.approx(float(release[i]), abs=1e-6)
    # prompts learnt on another CLIP, or for other tiers
    other = str(tmp_path / 'other.pth')
    torch.save({'prompt_learner': dict(learner, token_prefix=learner['token_prefix'] + 1), 'context_length': 16,
                'quality_names': ('terrible', 'mediocre', 'excellent')}, other)
    with pytest.raises(ValueError, match=r'prompt_file: .* holds prompts learnt on another CLIP'):
        CLIPQualityPerceiver('clip_tiny', clip_file, prompt_file=other)
    torch.save({'prompt_learner': learner, 'context_length': 16, 'quality_names': ('bad', 'ok', 'good')}, other)
    with pytest.raises(ValueError, match=r"holds prompts for the tiers \['bad', 'ok', 'good'\]"):
        CLIPQualityPerceiver('clip_tiny', clip_file, prompt_file=other)


def test_transformers_dinov2_tokens_equal_transformers_and_the_timm_file(files):
    transformers = pytest.importorskip('transformers')
    model, info = transformers.Dinov2Model.from_pretrained(files['dinov2'], output_loading_info=True)
    assert not any(info[k] for k in ('missing_keys', 'unexpected_keys', 'mismatched_keys'))
    x = torch.rand(2, 3, 50, 41)
    # the release's input: plain bicubic to the encoder's size, ImageNet statistics
    pixels = F.interpolate(x, size=(28, 28), mode='bicubic', align_corners=False)
    mean, std = torch.tensor((0.485, 0.456, 0.406)), torch.tensor((0.229, 0.224, 0.225))
    pixels = (pixels - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
    with torch.no_grad():
        hidden = model.eval()(pixel_values=pixels, output_hidden_states=True).hidden_states
    release = torch.stack([hidden[i][:, 0] for i in (1, 2, 3, 4)], dim=1)
    ours = _tokens(files['dinov2'], x)
    assert torch.allclose(ours, release, atol=1e-6, rtol=1e-5)
    assert torch.equal(ours, _tokens(files['timm'], x))  # the same weights in timm's layout
    # restorer files before version 3 resized the position embedding with antialiasing
    old = SemanticEncoder('dinov2_tiny', files['timm'], pos_antialias=True)(x)
    assert (old - ours).abs().max() > 1e-5


def test_the_release_protocol_restores_each_padded_tile_alone_and_averages(files):
    restorer = create_restorer(files['aio'], device='cpu', semantic_weights=files['dinov2'], protocol='release',
                               tile=32, tile_overlap=8)
    x = torch.rand(1, 3, 45, 61)
    # the release's evaluator, written out: its tile positions, reflect padding to 8, each
    # tile guided by itself, clamped, overlaps averaged
    def starts(n):
        s = list(range(0, n - 32 + 1, 24))
        return s if s[-1] == n - 32 else s + [n - 32]
    total, count = torch.zeros_like(x), torch.zeros_like(x)
    with torch.no_grad():
        for top in starts(45):
            for left in starts(61):
                t = x[..., top:top + 32, left:left + 32]
                p = F.pad(t, (0, (-t.shape[-1]) % 8, 0, (-t.shape[-2]) % 8), mode='reflect')
                out = files['stage2'](p, list(_tokens(files['dinov2'], p).unbind(1)))
                total[..., top:top + 32, left:left + 32] += out[..., :t.shape[-2], :t.shape[-1]].clamp(0, 1)
                count[..., top:top + 32, left:left + 32] += 1
    assert restorer.count_tiles(45, 61) == len(starts(45)) * len(starts(61)) == 6
    assert torch.allclose(restorer.restore(x), total / count, atol=1e-5)
    # a small image is one padded tile guided by itself
    small = torch.rand(1, 3, 21, 27)
    with torch.no_grad():
        p = F.pad(small, (0, 5, 0, 3), mode='reflect')
        one = files['stage2'](p, list(_tokens(files['dinov2'], p).unbind(1)))[..., :21, :27].clamp(0, 1)
    assert torch.allclose(restorer.restore(small), one, atol=1e-5)


def test_an_old_restorer_file_builds_its_real_semantic_encoder_once(files, tmp_path, monkeypatch):
    """A restorer file before version 3 ran with the antialiased position embedding: the
    encoder built for its file is the one the network uses (the file read once)."""
    from perceive_ir_arch.archs import PerceiveIR
    from perceive_ir_arch.backbones import dinov2
    from perceive_ir_arch.inference import save_restorer

    net = PerceiveIR(dim=8, num_blocks=[1, 1, 1, 1], num_refinement_blocks=1, heads=[1, 1, 1, 1],
                     degradation_dim=8, semantic_encoder='dinov2_tiny', semantic_pretrained=files['timm'])
    path = str(tmp_path / 'v2.pth')
    save_restorer(path, net)
    data = torch.load(path, weights_only=True)
    data['version'] = 2
    del data['network']['semantic_pos_antialias'], data['network']['guide_padded']
    torch.save(data, path)
    del net
    built = []
    real_init = dinov2.SemanticEncoder.__init__

    def counting(self, *args, **kwargs):
        built.append(args[:1])
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(dinov2.SemanticEncoder, '__init__', counting)
    restorer = create_restorer(path, device='cpu', semantic_weights=files['timm'])
    assert len(built) == 1 and restorer.net.semantic_encoder.pos_antialias is True

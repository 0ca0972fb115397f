"""Every published format of every pretrained part loads, is found where users keep it,
and a wrong file gets one message (issue: the pretrained parts as they are published)."""
from __future__ import annotations

import os
import pickle

import pytest
import torch

from perceive_ir_arch.archs import CLIPQualityPerceiver
from perceive_ir_arch.backbones import build_clip
from perceive_ir_arch.backbones.dinov2 import SemanticEncoder
from perceive_ir_arch.inference.cli import main
from perceive_ir_arch.backbones import VGG16Features
from perceive_ir_arch.pretrained import (PRETRAINED_PARTS, PretrainedFileError, describe, locate,
                                         read_state_dict)
from perceive_ir_arch.inference import create_restorer, save_restorer

from tests import published_files as pf
from tests.conftest import SAMPLES, TINY


# -- files in each published format, built once -----------------------------------------
@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('published')
    tiny = pf.dinov2_state(**pf.TINY_DINOV2)
    clip = pf.clip_model()
    return {
        'state': tiny, 'clip': clip,
        'timm': pf.write_dinov2_timm(str(root / 'timm' / 'model.safetensors'), tiny),
        'meta': pf.write_dinov2_meta(str(root / 'dinov2_tiny_pretrain.pth'), tiny),
        'vits_timm': pf.write_dinov2_timm(str(root / 'vits' / 'model.safetensors'), pf.dinov2_state()),
        'openai_ts': pf.write_openai_torchscript(str(root / 'ViT-B-32.pt'), clip),
        'openai_sd': pf.write_openai_state_dict(str(root / 'openai_state.pt'), clip),
        'open_clip_bin': pf.write_open_clip_bin(str(root / 'open_clip_pytorch_model.bin'), clip),
        'open_clip_st': pf.write_open_clip_safetensors(str(root / 'open_clip_model.safetensors'), clip),
        'vgg16': pf.write_vgg16(str(root / 'vgg16-397923af.pth')),
    }


def tokens(encoder: SemanticEncoder, seed: int = 0) -> torch.Tensor:
    return encoder(torch.rand(2, 3, 40, 52, generator=torch.Generator().manual_seed(seed)))


# -- DINOv2 ------------------------------------------------------------------------------
def test_dinov2_timm_and_meta_files_give_timms_own_tokens(files):
    import timm

    assert torch.equal(tokens(SemanticEncoder('dinov2_tiny', files['timm'])),
                       tokens(SemanticEncoder('dinov2_tiny', files['meta'])))
    # independent: timm's own pretrained loader on the same file, which resizes the position
    # embedding with antialiasing (the default follows the release: tests/test_release_files.py)
    ours = tokens(SemanticEncoder('dinov2_tiny', files['timm'], pos_antialias=True))
    ref = timm.create_model('vit_small_patch14_dinov2', pretrained=True, img_size=28,
                            pretrained_cfg_overlay=dict(file=files['timm']), **pf.TINY_DINOV2).eval()
    enc = SemanticEncoder('dinov2_tiny', None)
    x = torch.rand(2, 3, 40, 52, generator=torch.Generator().manual_seed(0))
    x = torch.nn.functional.interpolate(x, size=(28, 28), mode='bicubic', align_corners=False)
    x = (x - enc.mean) / enc.std
    expected = torch.stack([p[:, 0] for _, p in ref.forward_intermediates(
        x, indices=[0, 1, 2, 3], return_prefix_tokens=True, norm=False, output_fmt='NLC',
        intermediates_only=True)], dim=1)
    torch.testing.assert_close(ours, expected)


def test_the_real_dinov2_schema_is_what_the_fixtures_write():
    import timm

    with torch.device('meta'):
        vit = timm.create_model('vit_base_patch14_dinov2', pretrained=False, img_size=518)
    state = vit.state_dict()
    # facts of Meta's dinov2_vitb14_pretrain.pth / timm's model.safetensors
    assert state['pos_embed'].shape == (1, 1370, 768) and state['cls_token'].shape == (1, 1, 768)
    assert state['patch_embed.proj.weight'].shape == (768, 3, 14, 14)
    assert state['blocks.11.ls2.gamma'].shape == (768,) and 'blocks.12.norm1.weight' not in state
    assert describe(state) == 'a DINOv2 ViT-B/14 (embed 768, 12 blocks)'
    assert set(pf.dinov2_state(**pf.TINY_DINOV2)) == set(timm.create_model(
        'vit_small_patch14_dinov2', pretrained=False, img_size=518, **pf.TINY_DINOV2).state_dict())


def test_vits_found_in_the_hf_cache_loads_and_a_vits_file_for_vitb_is_named(files, empty_caches):
    pf.hf_cache_file(str(empty_caches['HF_HUB_CACHE']), 'timm/vit_small_patch14_dinov2.lvd142m',
                     'model.safetensors', files['vits_timm'])
    found = SemanticEncoder('dinov2_vits14', True)
    assert torch.equal(tokens(found), tokens(SemanticEncoder('dinov2_vits14', files['vits_timm'])))
    with pytest.raises(PretrainedFileError) as err:
        SemanticEncoder('dinov2_vitb14', files['vits_timm'])
    assert str(err.value).startswith(
        f"network_g.semantic_pretrained: {files['vits_timm']} is a DINOv2 ViT-S/14 (embed 384, 12 blocks); "
        'semantic_encoder dinov2_vitb14 needs DINOv2 ViT-B/14 (embed 768, 12 blocks) (')


# -- CLIP ----------------------------------------------------------------------------------
@pytest.mark.parametrize('kind', ['openai_ts', 'openai_sd', 'open_clip_bin', 'open_clip_st'])
def test_every_clip_file_loads_with_quickgelu_and_equal_values(files, kind):
    import open_clip
    from open_clip.transformer import QuickGELU

    clip = build_clip('clip_tiny', files[kind], 'clip_pretrained')
    assert all(isinstance(m.mlp.gelu, QuickGELU) for m in clip.modules() if hasattr(m, 'mlp'))
    reference = files['clip'].state_dict()
    for k, v in clip.state_dict().items():  # OpenAI's fp16 weights as fp32: exact conversions
        expected = pf._openai_dtype(k, reference[k]).float() if kind.startswith('openai') else reference[k]
        assert torch.equal(v, expected), k
    # independent: open_clip's own loader, told to use QuickGELU, on the open_clip file
    ref = open_clip.create_model('ViT-B-32', pretrained=files['open_clip_bin'], force_quick_gelu=True,
                                 **pf.TINY_CLIP).eval()
    image = torch.rand(2, 3, 32, 32)
    atol = 1e-2 if kind.startswith('openai') else 1e-6  # fp16 weights; else summation order
    torch.testing.assert_close(clip.encode_image(image), ref.encode_image(image), atol=atol, rtol=0)
    gelu = open_clip.create_model('ViT-B-32', pretrained=files['open_clip_bin'], **pf.TINY_CLIP).eval()
    assert (clip.encode_image(image) - gelu.encode_image(image)).abs().max() > 1e-3  # the activation counts


def test_the_torchscript_reader_equals_torch_jit_load_without_running_code(files):
    expected = torch.jit.load(files['openai_ts']).state_dict()  # trusted here: we wrote it
    ours = read_state_dict(files['openai_ts'], 'clip_pretrained')
    assert set(ours) == set(expected)
    for k in expected:
        assert ours[k].dtype == expected[k].dtype and torch.equal(ours[k], expected[k]), k
    assert ours['visual.conv1.weight'].dtype == torch.float16  # as OpenAI published it


def test_vit_b_32_is_built_with_quickgelu_as_openai_trained_it():
    from open_clip.transformer import QuickGELU

    clip = build_clip('ViT-B-32', None, 'clip_pretrained')
    acts = [m.mlp.gelu for m in clip.modules() if hasattr(m, 'mlp')]
    assert len(acts) == 24 and all(isinstance(a, QuickGELU) for a in acts)
    assert describe(clip.state_dict()) == 'a CLIP ViT-B/32 (vision width 768, patch 32, image 224, 12 layers)'


@pytest.mark.parametrize('where', ['weights', 'hf', 'clip_cache'])
def test_the_openai_archive_is_found_where_users_keep_it(files, empty_caches, where):
    if where == 'weights':
        target = str(empty_caches['PERCEIVE_IR_WEIGHTS'] / 'ViT-B-32.pt')
        os.link(files['openai_ts'], target)
    elif where == 'hf':
        target = pf.hf_cache_file(str(empty_caches['HF_HUB_CACHE']), 'timm/vit_base_patch32_clip_224.openai',
                                  'open_clip_pytorch_model.bin', files['open_clip_bin'])
    else:
        target = str(empty_caches['HOME'] / '.cache' / 'clip' / 'ViT-B-32.pt')
        os.makedirs(os.path.dirname(target))
        os.link(files['openai_ts'], target)
    assert locate('clip_ViT-B-32', True, 'clip_pretrained') == target


def test_score_reads_the_openai_archive_and_says_what_a_wrong_file_is(tmp_path, files, capsys):
    prompts = str(tmp_path / 'prompts.pth')
    torch.save({'params': CLIPQualityPerceiver('clip_tiny').state_dict()}, prompts)
    out = str(tmp_path / 'scores.json')
    assert main(['score', SAMPLES, '--prompts', prompts, '--clip-model', 'clip_tiny',
                 '--clip-weights', files['openai_ts'], '--json', out, '--quiet']) == 0
    with pytest.raises(SystemExit) as err:
        main(['score', SAMPLES, '--prompts', prompts, '--clip-model', 'clip_tiny',
              '--clip-weights', files['timm'], '--quiet'])
    assert str(err.value) == (f"perceive-ir score: --clip-weights: {files['timm']} is a DINOv2 ViT/14 "
                              '(embed 16, 4 blocks); clip_model clip_tiny needs a CLIP clip_tiny')


# -- VGG16 -----------------------------------------------------------------------------------
def test_torchvision_vgg16_file_loads_and_is_found_in_torch_hub(files, empty_caches):
    import torchvision

    vgg = VGG16Features(pretrained=files['vgg16'])
    state = torch.load(files['vgg16'], weights_only=True)
    assert torch.equal(vgg.features[0].weight, state['features.0.weight'])
    assert torch.equal(vgg.features[14].weight, state['features.14.weight'])
    hub = empty_caches['TORCH_HOME'] / 'hub' / 'checkpoints'
    hub.mkdir(parents=True)
    os.link(files['vgg16'], hub / 'vgg16-397923af.pth')
    assert locate('vgg16', True, 'train.dpl_opt.vgg_pretrained') == str(hub / 'vgg16-397923af.pth')
    with torch.device('meta'):
        assert describe(torchvision.models.vgg19(weights=None).state_dict()) == 'a torchvision VGG19'
        assert describe(torchvision.models.vgg16_bn(weights=None).state_dict()) == \
            'a torchvision VGG16 with batch norm'


# -- the lookup rule -----------------------------------------------------------------------
def test_lookup_order_env_then_caches_and_hf_home(files, empty_caches, monkeypatch, tmp_path):
    hf = pf.hf_cache_file(str(empty_caches['HF_HUB_CACHE']), 'timm/vit_base_patch14_dinov2.lvd142m',
                          'model.safetensors', files['timm'])
    assert locate('dinov2_vitb14', True, 'x') == hf
    hub = empty_caches['TORCH_HOME'] / 'hub' / 'checkpoints'
    hub.mkdir(parents=True)
    os.link(files['meta'], hub / 'dinov2_vitb14_pretrain.pth')
    assert locate('dinov2_vitb14', True, 'x') == hf  # the HF cache comes before torch hub
    mine = str(empty_caches['PERCEIVE_IR_WEIGHTS'] / 'dinov2_vitb14_pretrain.pth')
    os.link(files['meta'], mine)
    assert locate('dinov2_vitb14', True, 'x') == mine  # the plugin's folder first
    assert locate('dinov2_vitb14', files['timm'], 'x') == files['timm']  # an explicit file above all
    assert locate('dinov2_vitb14', None, 'x') is None
    monkeypatch.delenv('HF_HUB_CACHE')
    monkeypatch.setenv('HF_HOME', str(tmp_path / 'hf'))  # HF_HOME/hub
    os.remove(mine)
    assert locate('dinov2_vitb14', True, 'x') == hf


def test_the_download_addresses_are_the_upstream_libraries_own():
    import open_clip
    import timm
    import torchvision

    for name, timm_name in (('dinov2_vitb14', 'vit_base_patch14_dinov2.lvd142m'),
                            ('dinov2_vits14', 'vit_small_patch14_dinov2.lvd142m')):
        cfg = timm.models.get_pretrained_cfg(timm_name)
        part = PRETRAINED_PARTS[name]
        assert cfg.url in part.urls and part.hf_hub[0] == cfg.hf_hub_id
        assert f'https://huggingface.co/{part.hf_hub[0]}' in part.urls
    openai = open_clip.get_pretrained_cfg('ViT-B-32', 'openai')
    part = PRETRAINED_PARTS['clip_ViT-B-32']
    assert part.urls[0] == openai['url'] and part.hf_hub[0] + '/' == openai['hf_hub']
    assert part.quick_gelu is openai['quick_gelu'] is True
    assert PRETRAINED_PARTS['vgg16'].urls == (torchvision.models.VGG16_Weights.IMAGENET1K_V1.url,)


# -- wrong files: one message each -------------------------------------------------------
def _bad_files(root, files) -> dict[str, tuple[str, str]]:
    """name -> (path, the message after '<option>: <path> ')."""
    def write(name: str, data: bytes) -> str:
        path = str(root / name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    class RunsCode:
        def __reduce__(self):
            return (os.system, ('echo pwned',))

    torch.save([torch.zeros(2)], str(root / 'list.pth'))
    torch.save(torch.zeros(3, 4), str(root / 'tensor.pth'))
    torch.save({'w': torch.zeros(1), 'x': RunsCode()}, str(root / 'code.pth'))
    with open(files['timm'], 'rb') as f:
        safetensors = f.read()
    with open(files['meta'], 'rb') as f:
        meta = f.read()
    with open(files['openai_ts'], 'rb') as f:
        archive = f.read()
    return {
        'empty': (write('empty.pth', b''), 'is empty (0 bytes): a download or copy that did not finish'),
        'text': (write('notes.pth', b'these are not weights\n'), 'is not a weights file (not safetensors, '
                 'not a PyTorch or TorchScript archive, not a pickle)'),
        'random': (write('random.bin', bytes(range(7, 256)) * 40), 'is not a weights file (not '
                   'safetensors, not a PyTorch or TorchScript archive, not a pickle)'),
        'cut safetensors': (write('cut.safetensors', safetensors[:len(safetensors) // 2]),
                            'is a damaged or truncated safetensors file ('),
        'cut pth': (write('cut.pth', meta[:len(meta) // 2]),
                    'is a damaged or truncated zip archive (a PyTorch file cut short?)'),
        'cut torchscript': (write('cut.pt', archive[:len(archive) * 2 // 3]),
                            'is a damaged or truncated zip archive (a PyTorch file cut short?)'),
        'plain pickle with code': (write('evil.pkl', pickle.dumps({'w': RunsCode()})),
                                   'holds pickled Python objects that would run code when loaded '
                                   '(posix.system); refused'),
        'archive with code': (str(root / 'code.pth'), 'holds pickled Python objects that would run '
                              'code when loaded (posix.system); refused'),
        'list': (str(root / 'list.pth'), 'holds a list, not a state dict of named weights'),
        'tensor': (str(root / 'tensor.pth'), 'holds a single tensor of shape (3, 4), not a state dict '
                   'of named weights'),
    }


def test_every_broken_file_gets_one_message_naming_option_and_path(tmp_path, files):
    for case, (path, why) in _bad_files(tmp_path, files).items():
        for build, option in ((lambda p: SemanticEncoder('dinov2_tiny', p), 'network_g.semantic_pretrained'),
                              (lambda p: build_clip('clip_tiny', p, 'clip_pretrained'), 'clip_pretrained'),
                              (lambda p: VGG16Features(pretrained=p), 'train.dpl_opt.vgg_pretrained')):
            with pytest.raises(PretrainedFileError) as err:
                build(path)
            assert str(err.value).startswith(f'{option}: {path} {why}'), (case, str(err.value))


def test_another_models_weights_are_named(tmp_path, files):
    from perceive_ir_arch import PerceiveIR

    restorer = str(tmp_path / 'restorer.pth')
    save_restorer(restorer, PerceiveIR(**TINY))
    with pytest.raises(PretrainedFileError, match=r'is a perceive-ir restorer file \(PerceiveIR\); '
                                                  r'semantic_encoder dinov2_tiny needs a DINOv2 ViT$'):
        SemanticEncoder('dinov2_tiny', restorer)
    with pytest.raises(PretrainedFileError, match=r'is a CLIP ViT/16 \(vision width 32, patch 16, image 32, '
                                                  r'1 layers\); semantic_encoder dinov2_tiny needs'):
        SemanticEncoder('dinov2_tiny', files['open_clip_bin'])
    with pytest.raises(PretrainedFileError, match=r"is a DINOv2 ViT/14 \(embed 16, 4 blocks\); the perceptual "
                                                  r"loss needs torchvision's VGG16"):
        VGG16Features(pretrained=files['timm'])


def test_the_command_names_its_flags_and_never_shows_a_traceback(tmp_path, files, empty_caches):
    from perceive_ir_arch import PerceiveIR

    restorer = str(tmp_path / 'real.pth')
    save_restorer(restorer, PerceiveIR(**TINY))
    data = torch.load(restorer, weights_only=True)
    data['semantic']['random'] = False  # trained with the real encoder
    torch.save(data, restorer)
    out = str(tmp_path / 'out')
    cases = [
        (['--weights', files['timm']], f"perceive-ir restore: --weights: {files['timm']} is a DINOv2 ViT/14 "
         '(embed 16, 4 blocks), not the checkpoint of a trained network (looked for params_ema or params, '
         'a restorer file, a release file, a state dict)'),
        (['--weights', restorer, '--semantic-weights', str(tmp_path / 'missing.safetensors')],
         f"perceive-ir restore: --semantic-weights: weight file {str(tmp_path / 'missing.safetensors')!r} "
         'does not exist.'),
        (['--weights', restorer, '--semantic-weights', files['open_clip_bin']],
         f"perceive-ir restore: --semantic-weights: {files['open_clip_bin']} is a CLIP ViT/16"),
        (['--weights', str(tmp_path / 'nothing.pth')],
         f"perceive-ir restore: --weights: weights file {str(tmp_path / 'nothing.pth')!r} does not exist"),
    ]
    for flags, message in cases:
        with pytest.raises(SystemExit) as err:
            main(['restore', SAMPLES, '-o', out, '--quiet', *flags])
        assert str(err.value).startswith(message), str(err.value)
    # the flag's file loads: the same tokens as the file given to the network directly
    os.link(files['timm'], empty_caches['PERCEIVE_IR_WEIGHTS'] / 'dinov2_tiny.safetensors')
    found = create_restorer(restorer, device='cpu')
    given = create_restorer(restorer, device='cpu', semantic_weights=files['meta'])
    x = torch.rand(1, 3, 24, 24)
    assert torch.equal(found.restore(x), given.restore(x))

"""Weight files in the formats their publishers use, with random values and tiny widths.

Containers, key names and dtypes follow the real downloads:
- timm's DINOv2 (``model.safetensors``): timm key names, fp32, position embedding for
  518 x 518 input (37 x 37 patches + class token);
- Meta's DINOv2 (``dinov2_vit*14_pretrain.pth``): the same names plus ``mask_token``,
  a ``torch.save`` zip archive;
- OpenAI's CLIP (``ViT-B-32.pt``): a TorchScript archive of the traced model whose
  convolution, linear, attention and projection weights are fp16 (OpenAI's
  ``convert_weights``), with ``input_resolution``, ``context_length`` and ``vocab_size``
  as top-level tensors; also as a plain ``torch.save`` of that state dict;
- open_clip's hub copy (``open_clip_pytorch_model.bin`` / ``open_clip_model.safetensors``):
  open_clip key names, fp32, no settings entries;
- torchvision's VGG16 (``vgg16-397923af.pth``): full size (the format fixes every shape).
"""
from __future__ import annotations

import os
import warnings

import torch

TINY_DINOV2 = dict(embed_dim=16, depth=4, num_heads=1)  # dinov2_tiny's shape
TINY_CLIP = dict(embed_dim=32, vision_cfg=dict(image_size=32, layers=1, width=32, patch_size=16, head_width=16),
                 text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2, layers=1))


def dinov2_state(timm_name: str = 'vit_small_patch14_dinov2', seed: int = 0, **kwargs) -> dict:
    """A DINOv2 state dict in timm's layout at the published 518 x 518 input."""
    import timm

    torch.manual_seed(seed)
    vit = timm.create_model(timm_name, pretrained=False, img_size=518, **kwargs)
    state = {k: v.detach().clone() for k, v in vit.state_dict().items()}
    for k in state:
        if k.endswith('.gamma'):  # trained LayerScales are far from their 1e-5 start
            state[k] = torch.rand_like(state[k]) * 0.5 + 0.1
    return state


def write_dinov2_timm(path: str, state: dict) -> str:
    from safetensors.torch import save_file

    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, path)
    return path


def write_dinov2_meta(path: str, state: dict) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    meta = dict(state, mask_token=torch.zeros(1, state['cls_token'].shape[-1]))
    torch.save(meta, path)
    return path


def clip_model(seed: int = 0):
    """A tiny CLIP as OpenAI built theirs (QuickGELU), random."""
    import open_clip

    torch.manual_seed(seed)
    return open_clip.create_model('ViT-B-32', pretrained=None, force_quick_gelu=True, **TINY_CLIP).eval()


_OPENAI_HALF = ('conv1.weight', 'in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias',
                'c_fc.weight', 'c_fc.bias', 'c_proj.weight', 'c_proj.bias', 'text_projection', 'proj')


def _openai_dtype(name: str, value: torch.Tensor) -> torch.Tensor:
    return value.half() if name.split('.')[-1] in ('text_projection', 'proj') or name.endswith(_OPENAI_HALF) else value


def openai_state(model) -> dict:
    """OpenAI's state dict: open_clip's names, fp16 where OpenAI converted, settings as tensors."""
    state = {k: _openai_dtype(k, v.detach().clone()) for k, v in model.state_dict().items()}
    image = model.visual.image_size
    state.update(input_resolution=torch.tensor(image[0] if isinstance(image, tuple) else image),
                 context_length=torch.tensor(model.context_length),
                 vocab_size=torch.tensor(model.vocab_size))
    return state


def write_openai_torchscript(path: str, model) -> str:
    """OpenAI's ``ViT-B-32.pt``: a TorchScript archive of the traced CLIP."""
    image = torch.rand(1, 3, *((model.visual.image_size,) * 2 if isinstance(model.visual.image_size, int)
                               else model.visual.image_size))
    text = torch.zeros(1, model.context_length, dtype=torch.long)
    import copy

    state = openai_state(model)
    model = copy.deepcopy(model)
    for name in ('input_resolution', 'context_length', 'vocab_size'):
        if hasattr(model, name):
            delattr(model, name)  # open_clip keeps them as ints; OpenAI's archive as tensors
        model.register_buffer(name, state[name])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        traced = torch.jit.trace(model, (image, text), check_trace=False)
        for name, param in traced.named_parameters():
            param.data = _openai_dtype(name, param.data)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        torch.jit.save(traced, path)
    return path


def write_openai_state_dict(path: str, model) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(openai_state(model), path)
    return path


def write_open_clip_bin(path: str, model) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(model.state_dict(), path)
    return path


def write_open_clip_safetensors(path: str, model) -> str:
    from safetensors.torch import save_file

    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    return path


def write_vgg16(path: str, seed: int = 0) -> str:
    """torchvision's VGG16 file: every key and shape of ``vgg16-397923af.pth``, random values."""
    import torchvision

    with torch.device('meta'):
        shapes = {k: v.shape for k, v in torchvision.models.vgg16(weights=None).state_dict().items()}
    gen = torch.Generator().manual_seed(seed)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save({k: torch.randn(s, generator=gen) * 0.01 for k, s in shapes.items()}, path)
    return path


def hf_cache_file(hub: str, repo: str, filename: str, source: str, revision: str = 'abc123') -> str:
    """Place ``source`` where huggingface_hub caches ``repo``'s ``filename``: the bytes in
    ``blobs/``, a relative symlink in ``snapshots/<revision>/``, ``refs/main`` naming it."""
    import shutil

    folder = os.path.join(hub, 'models--' + repo.replace('/', '--'))
    for sub in ('refs', 'blobs', os.path.join('snapshots', revision)):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    with open(os.path.join(folder, 'refs', 'main'), 'w') as f:
        f.write(revision)
    blob = os.path.join(folder, 'blobs', f'{abs(hash((repo, filename))):x}')
    shutil.copyfile(source, blob)
    target = os.path.join(folder, 'snapshots', revision, filename)
    os.symlink(os.path.relpath(blob, os.path.dirname(target)), target)
    return target


def write_dinov2_transformers(folder: str, state: dict, patch: int = 14, image: int = 518) -> str:
    """A DINOv2 in transformers' published layout (``facebook/dinov2-*``: config.json and
    model.safetensors with separate query / key / value), from a timm-layout state dict."""
    import json

    from safetensors.torch import save_file

    dim = state['cls_token'].shape[-1]
    layers = len({k.split('.')[1] for k in state if k.startswith('blocks.')})
    out = {'embeddings.cls_token': state['cls_token'], 'embeddings.mask_token': torch.zeros(1, dim),
           'embeddings.position_embeddings': state['pos_embed'],
           'embeddings.patch_embeddings.projection.weight': state['patch_embed.proj.weight'],
           'embeddings.patch_embeddings.projection.bias': state['patch_embed.proj.bias'],
           'layernorm.weight': state['norm.weight'], 'layernorm.bias': state['norm.bias']}
    for i in range(layers):
        src, dst = f'blocks.{i}.', f'encoder.layer.{i}.'
        for kind in ('weight', 'bias'):
            q, k, v = state[f'{src}attn.qkv.{kind}'].chunk(3, dim=0)
            for name, value in (('query', q), ('key', k), ('value', v)):
                out[f'{dst}attention.attention.{name}.{kind}'] = value
            out[f'{dst}attention.output.dense.{kind}'] = state[f'{src}attn.proj.{kind}']
            for part in ('norm1', 'norm2', 'mlp.fc1', 'mlp.fc2'):
                out[f'{dst}{part}.{kind}'] = state[f'{src}{part}.{kind}']
        out[f'{dst}layer_scale1.lambda1'] = state[f'{src}ls1.gamma']
        out[f'{dst}layer_scale2.lambda1'] = state[f'{src}ls2.gamma']
    os.makedirs(folder, exist_ok=True)
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(folder, 'model.safetensors'))
    heads = 1 if dim == 16 else dim // 64
    config = dict(model_type='dinov2', architectures=['Dinov2Model'], hidden_size=dim, num_hidden_layers=layers,
                  num_attention_heads=heads, mlp_ratio=4, hidden_act='gelu', layer_norm_eps=1e-6,
                  image_size=image, patch_size=patch, num_channels=3, qkv_bias=True, layerscale_value=1.0,
                  use_swiglu_ffn=False, drop_path_rate=0.0, hidden_dropout_prob=0.0,
                  attention_probs_dropout_prob=0.0)
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(config, f)
    return folder

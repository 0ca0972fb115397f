"""What a weight file is, told from its key names and shapes, for the messages users see."""
from __future__ import annotations

import re
from typing import Any, Mapping

import torch

__all__ = ['describe', 'is_pretrained_part', 'count_indices']

_VIT_SIZES = {192: 'ViT-Ti', 384: 'ViT-S', 768: 'ViT-B', 1024: 'ViT-L', 1280: 'ViT-H', 1536: 'ViT-g'}
_VGG_DEPTHS = {8: 'VGG11', 10: 'VGG13', 13: 'VGG16', 16: 'VGG19'}


def count_indices(keys, pattern: str) -> int:
    """How many different values the first group of ``pattern`` takes over ``keys`` (blocks, layers)."""
    rx = re.compile(pattern)
    return len({m.group(1) for k in keys if (m := rx.match(k))})


def _shape(state: Mapping[str, Any], key: str) -> tuple[int, ...] | None:
    value = state.get(key)
    return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def is_pretrained_part(state: Mapping[str, Any]) -> bool:
    """Whether a state dict is one of the published pretrained parts (DINOv2, CLIP, VGG),
    which no trained restorer is."""
    return (('cls_token' in state and 'patch_embed.proj.weight' in state)
            or ('embeddings.cls_token' in state or 'dinov2.embeddings.cls_token' in state)
            or ('visual.conv1.weight' in state and 'token_embedding.weight' in state)
            or ('features.0.weight' in state and any(str(k).startswith('classifier.') for k in state)))


def describe(state: Any) -> str:
    """A short description ("a DINOv2 ViT-S/14 (embed 384, 12 blocks)") of a loaded file."""
    if not isinstance(state, Mapping):
        return f'a {type(state).__name__}'
    keys = list(state)
    if state.get('format') == 'perceive-ir-restorer':
        return f"a perceive-ir restorer file ({state.get('network', {}).get('type', '?')})"
    if 'optimizers' in state and 'iter' in state:
        return f"a BasicSR training state (iteration {state['iter']})"
    for key in ('params_ema', 'params'):
        if isinstance(state.get(key), Mapping):
            inner = state[key]
            if set(inner) in ({'ctx'}, {'ctx', 'tokens'}):
                return 'a stage-1 quality-perceiver prompt file (prompt context)'
            return f'a BasicSR network checkpoint ({key}: {len(inner)} tensors, e.g. {", ".join(list(inner)[:2])})'
    if 'embeddings.cls_token' in state or 'dinov2.embeddings.cls_token' in state:
        prefix = 'dinov2.' if 'dinov2.embeddings.cls_token' in state else ''
        embed = _shape(state, f'{prefix}embeddings.cls_token')[-1]
        patch = _shape(state, f'{prefix}embeddings.patch_embeddings.projection.weight')
        depth = count_indices(keys, rf'{re.escape(prefix)}encoder\.layer\.(\d+)\.')
        size = f'{_VIT_SIZES.get(embed, "ViT")}/{patch[-1] if patch else "?"}'
        return f'a transformers DINOv2 {size} (embed {embed}, {depth} layers)'
    patch = _shape(state, 'patch_embed.proj.weight')
    cls = _shape(state, 'cls_token')
    if patch and cls:
        embed, depth = cls[-1], count_indices(keys, r'blocks\.(\d+)\.')
        size = f'{_VIT_SIZES.get(embed, "ViT")}/{patch[-1]}'
        if any('.ls1.' in k for k in keys):
            return f'a DINOv2 {size} (embed {embed}, {depth} blocks)'
        if 'norm_pre.weight' in state:
            return f'a timm CLIP image tower {size} (embed {embed}, {depth} blocks; no text tower)'
        return f'a ViT {size} (embed {embed}, {depth} blocks, timm layout)'
    conv1 = _shape(state, 'visual.conv1.weight')
    if conv1 and 'token_embedding.weight' in state:
        layers = count_indices(keys, r'visual\.transformer\.resblocks\.(\d+)\.')
        pos = _shape(state, 'visual.positional_embedding')
        image = int(round(((pos[0] - 1) ** 0.5) * conv1[-1])) if pos else '?'
        if layers:
            return (f'a CLIP {_VIT_SIZES.get(conv1[0], "ViT")}/{conv1[-1]} (vision width {conv1[0]}, '
                    f'patch {conv1[-1]}, image {image}, {layers} layers)')
        return 'a CLIP with a ResNet image tower'
    if 'features.0.weight' in state and any(k.startswith('classifier.') for k in keys):
        convs = count_indices(keys, r'features\.(\d+)\.weight') - count_indices(keys, r'features\.(\d+)\.running_mean')
        name = _VGG_DEPTHS.get(convs, f'VGG with {convs} convolutions')
        return f'a torchvision {name}' + (' with batch norm' if any('running_mean' in k for k in keys) else '')
    tensors = [k for k in keys if isinstance(state[k], torch.Tensor)]
    if not tensors:
        return f'a dict without tensors (keys {", ".join(map(str, keys[:4]))})'
    return f'a state dict of {len(tensors)} tensors that is none of the known parts (keys {", ".join(tensors[:3])}, ...)'

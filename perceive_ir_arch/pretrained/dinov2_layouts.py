"""DINOv2 as transformers publishes it (``facebook/dinov2-base``, ``-small``), in timm's names.

The hub files keep transformers 4's names (separate ``query`` / ``key`` / ``value``
projections, ``layer_scale1.lambda1``, ``layernorm``); transformers 5 names the same
tensors ``q_proj`` / ``k_proj`` / ``v_proj`` / ``o_proj``.  Both become Meta's / timm's
layout (one ``qkv`` projection), which ``timm``'s checkpoint filter then takes as usual.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

import torch

__all__ = ['is_transformers_dinov2', 'transformers_to_timm']

_PREFIXES = ('', 'dinov2.')  # the base model, or the backbone of a classifier file
_DIRECT = {
    'embeddings.cls_token': 'cls_token',
    'embeddings.mask_token': 'mask_token',
    'embeddings.position_embeddings': 'pos_embed',
    'embeddings.patch_embeddings.projection.weight': 'patch_embed.proj.weight',
    'embeddings.patch_embeddings.projection.bias': 'patch_embed.proj.bias',
    'layernorm.weight': 'norm.weight',
    'layernorm.bias': 'norm.bias',
}
_LAYER = {
    r'norm([12])\.(weight|bias)': r'norm\1.\2',
    r'attention\.output\.dense\.(weight|bias)': r'attn.proj.\1',
    r'attention\.o_proj\.(weight|bias)': r'attn.proj.\1',
    r'layer_scale([12])\.lambda1': r'ls\1.gamma',
    r'mlp\.fc([12])\.(weight|bias)': r'mlp.fc\1.\2',
}
_QKV = re.compile(r'attention\.(?:attention\.(query|key|value)|([qkv])_proj)\.(weight|bias)')


def _prefix(state: Mapping[str, Any]) -> str | None:
    return next((p for p in _PREFIXES if f'{p}embeddings.cls_token' in state), None)


def is_transformers_dinov2(state: Any) -> bool:
    return isinstance(state, Mapping) and _prefix(state) is not None


def transformers_to_timm(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """transformers' DINOv2 names -> Meta's / timm's; KeyError listing keys it does not know."""
    prefix = _prefix(state)
    out: dict[str, torch.Tensor] = {}
    qkv: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    unknown = []
    for key, value in state.items():
        if not key.startswith(prefix):
            unknown.append(key)
            continue
        name = key[len(prefix):]
        if name in _DIRECT:
            out[_DIRECT[name]] = value
            continue
        m = re.fullmatch(r'encoder\.layer\.(\d+)\.(.+)', name)
        if m is None:
            unknown.append(key)
            continue
        layer, inner = m[1], m[2]
        if q := _QKV.fullmatch(inner):
            which = (q[1] or q[2])[0]  # query / q_proj -> 'q'
            qkv.setdefault((layer, q[3]), {})[which] = value
            continue
        for pattern, repl in _LAYER.items():
            if re.fullmatch(pattern, inner):
                out[f'blocks.{layer}.' + re.sub(pattern, repl, inner)] = value
                break
        else:
            unknown.append(key)
    for (layer, kind), parts in qkv.items():
        if set(parts) != {'q', 'k', 'v'}:
            unknown.append(f'encoder.layer.{layer} has only {sorted(parts)} of q, k, v')
            continue
        out[f'blocks.{layer}.attn.qkv.{kind}'] = torch.cat([parts['q'], parts['k'], parts['v']], dim=0)
    if unknown:
        raise KeyError(f'{len(unknown)} keys are not a transformers DINOv2 ({", ".join(unknown[:4])})')
    return out

"""CLIP, frozen, from any file its publishers ship (OpenAI's TorchScript archive or state
dict, open_clip's ``.bin`` / ``.safetensors``), built with open_clip."""
from __future__ import annotations

import logging

from torch import nn

from ..pretrained import PretrainedFileError, describe, load_strict, pretrained_part, pretrained_state
from .frozen import freeze, seeded_build

__all__ = ['CLIP_ARCHS', 'build_clip']

logger = logging.getLogger('basicsr.perceive_ir')

# name -> (open_clip architecture, keyword overrides); any other name goes to open_clip as is.
# Both are built with QuickGELU, the activation OpenAI trained ViT-B/32 with (open_clip's
# plain 'ViT-B-32' config uses nn.GELU, which would compute wrong features from its weights).
CLIP_ARCHS: dict[str, tuple[str, dict]] = {
    'ViT-B-32': ('ViT-B-32', dict(force_quick_gelu=True)),
    # tests and CPU demos: random weights, 32x32 images, 32-d features
    'clip_tiny': ('ViT-B-32', dict(force_quick_gelu=True, embed_dim=32,
                                   vision_cfg=dict(image_size=32, layers=1, width=32, patch_size=16,
                                                   head_width=16),
                                   text_cfg=dict(context_length=77, vocab_size=49408, width=32,
                                                 heads=2, layers=1))),
}

# entries of OpenAI's files that are settings, not weights (open_clip drops them too)
_OPENAI_SETTINGS = ('input_resolution', 'context_length', 'vocab_size')


def build_clip(name: str, pretrained: str | bool | None, option: str) -> nn.Module:
    """A frozen open_clip CLIP from any published file of its weights (OpenAI's TorchScript
    ``.pt`` or state dict, open_clip's ``.bin`` / ``.safetensors``), or random weights."""
    import open_clip  # heavy: imported only when a perceiver is built

    arch, overrides = CLIP_ARCHS.get(name, (name, {}))
    found = pretrained_state(f'clip_{name}', pretrained, option)
    if found is None:
        model = seeded_build(lambda: open_clip.create_model(arch, pretrained=None, **overrides))
        logger.warning(f'CLIP {name}: RANDOM weights ({option}: ~). Fine for tests and demos only.')
        return freeze(model)
    path, state = found
    # open_clip warns that the model it builds is random: its weights come from the file next
    logging.disable(logging.WARNING)
    try:
        model = open_clip.create_model(arch, pretrained=None, **overrides)
    finally:
        logging.disable(logging.NOTSET)
    part = pretrained_part(f'clip_{name}')
    needs = f'clip_model {name} needs {part.title if part else "a CLIP " + name}'
    if 'visual.conv1.weight' not in state or 'token_embedding.weight' not in state:
        raise PretrainedFileError(f'{option}: {path} is {describe(state)}; {needs}')
    what = describe(state)
    own = model.state_dict()
    # settings and computed attention masks are not weights
    weights = {k: v for k, v in state.items()
               if k not in _OPENAI_SETTINGS and not (k.endswith('attn_mask') and k not in own)}
    load_strict(model, weights, option=option, path=path, needs=needs, what=what)
    logger.info(f'CLIP {name}: weights from {path}')
    return freeze(model.float())

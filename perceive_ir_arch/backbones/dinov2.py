"""The frozen semantic encoder (SGM): DINOv2 class tokens after chosen blocks.

Architectures are data: ``SEMANTIC_ENCODERS`` maps a name to a timm architecture and the
blocks whose class token is read.  Weights come from a local file (see ``perceive_ir_arch.pretrained``).
"""
from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .frozen import freeze, register_normalisation, seeded_build
from ..pretrained import IMAGENET, PretrainedFileError, describe, load_strict, pretrained_part, pretrained_state
from ..pretrained.dinov2_layouts import is_transformers_dinov2, transformers_to_timm

__all__ = ['SEMANTIC_ENCODERS', 'SemanticEncoder', 'build_semantic_encoder']

logger = logging.getLogger('basicsr.perceive_ir')


@dataclass(frozen=True)
class SemanticEncoderSpec:
    timm_name: str
    blocks: tuple[int, ...]  # 0-based indices of the blocks whose class token is read
    width: int               # the tokens' size
    img_size: int = 224
    timm_kwargs: dict = field(default_factory=dict)


SEMANTIC_ENCODERS: dict[str, SemanticEncoderSpec] = {
    # the paper's choice: class tokens after blocks 1, 4, 8, 12 of ViT-B/14 (768-d)
    'dinov2_vitb14': SemanticEncoderSpec('vit_base_patch14_dinov2', (0, 3, 7, 11), 768),
    # the weaker hint in the authors' older material (384-d)
    'dinov2_vits14': SemanticEncoderSpec('vit_small_patch14_dinov2', (0, 3, 7, 11), 384),
    # tests and CPU demos: random weights only, 16-d tokens from a 28x28 input
    'dinov2_tiny': SemanticEncoderSpec('vit_small_patch14_dinov2', (0, 1, 2, 3), 16, img_size=28,
                                       timm_kwargs=dict(embed_dim=16, depth=4, num_heads=1)),
}


def _unit_layer_scale(vit: nn.Module) -> None:
    """Set every LayerScale of a randomly built ViT to 1.

    DINOv2 starts its LayerScales at 1e-5, so a random DINOv2 adds 1e-5 of each block's
    output to the class token: its tokens are the same for every image (relative
    differences of 4e-6 to 3e-4 measured), and a random stand-in would guide with a
    constant.  A weight file replaces these values.
    """
    from timm.layers import LayerScale

    for module in vit.modules():
        if isinstance(module, LayerScale):
            module.gamma.data.fill_(1.0)


class SemanticEncoder(nn.Module):
    """Image in [0, 1] (B x 3 x H x W) -> B x len(blocks) x D class tokens.

    Always in eval mode and without gradients: ``train()`` cannot switch it back.
    """

    def __init__(self, name: str, pretrained: str | bool | None = None,
                 option: str = 'network_g.semantic_pretrained', antialias: bool = False,
                 pos_antialias: bool = False) -> None:
        super().__init__()
        self.pos_antialias = pos_antialias  # how the position embedding is resized at load
        if name not in SEMANTIC_ENCODERS:
            raise ValueError(f'unknown semantic encoder {name!r}; choose one of '
                             f'{sorted(SEMANTIC_ENCODERS)}')
        spec = SEMANTIC_ENCODERS[name]
        found = pretrained_state(name, pretrained, option)
        import timm  # heavy: imported only when an encoder is built

        kwargs = dict(img_size=spec.img_size, **spec.timm_kwargs)
        self.vit = seeded_build(lambda: timm.create_model(spec.timm_name, pretrained=False, **kwargs))
        if found is None:
            _unit_layer_scale(self.vit)
            logger.warning(f'Semantic encoder {name}: RANDOM weights ({option}: ~). '
                           'Fine for tests and demos; the method needs the real DINOv2 file.')
        else:
            self._load(found, name, option)
        self.name, self.blocks, self.img_size = name, spec.blocks, spec.img_size
        self.antialias = antialias  # the release resizes with plain bicubic
        self.dim = self.vit.embed_dim
        part = pretrained_part(name)  # the test encoders have no entry: DINOv2's ImageNet statistics
        register_normalisation(self, part.mean_std if part else IMAGENET)
        freeze(self)

    def _load(self, found: tuple[str, dict], name: str, option: str) -> None:
        """Any published layout (timm's safetensors, Meta's ``*_pretrain.pth``, transformers'
        ``facebook/dinov2-*`` ``model.safetensors``) through timm's own conversion, which also
        resizes the position embedding to our input: plain bicubic as the release's
        transformers model does at every forward, or antialiased (``pos_antialias``)."""
        from timm.models.vision_transformer import checkpoint_filter_fn

        path, state = found
        part = pretrained_part(name)
        needs = f'semantic_encoder {name} needs {part.title if part else "a DINOv2 ViT"}'
        what = describe(state)
        if is_transformers_dinov2(state):
            try:
                state = transformers_to_timm(state)
            except KeyError as exc:
                raise PretrainedFileError(f'{option}: {path} is {what}; {needs} ({exc.args[0]})') from None
        if 'cls_token' not in state or 'patch_embed.proj.weight' not in state:
            raise PretrainedFileError(f'{option}: {path} is {what}; {needs}')
        try:
            converted = checkpoint_filter_fn(dict(state), self.vit, antialias=self.pos_antialias)
        except (RuntimeError, ValueError, KeyError, IndexError) as exc:
            raise PretrainedFileError(f'{option}: {path} is {what}; {needs} '
                                      f'({str(exc).splitlines()[0][:200]})') from None
        load_strict(self.vit, converted, option=option, path=path, needs=needs, what=what)
        logger.info(f'Semantic encoder {name}: weights from {path}')

    def train(self, mode: bool = True) -> 'SemanticEncoder':
        return self  # frozen: dropout / drop-path stay off whatever the caller asks

    @torch.no_grad()
    def shrink(self, x: torch.Tensor) -> torch.Tensor:
        """A smaller copy of a large image (on its own device) that gives the same tokens, so
        that a tiled restore never moves the whole image to the encoder's device."""
        if self.antialias:  # an antialiased step to 4x the input size keeps the tokens
            side = 4 * self.img_size
            if max(x.shape[-2:]) <= side:
                return x
            scale = side / max(x.shape[-2:])
            size = (max(round(x.shape[-2] * scale), 1), max(round(x.shape[-1] * scale), 1))
            return F.interpolate(x.float(), size=size, mode='bicubic', align_corners=False, antialias=True)
        # plain bicubic samples the image: resizing to the input size here is the same
        # resize, and the encoder's own resize of an input-size image is the identity
        return F.interpolate(x.float(), size=(self.img_size, self.img_size), mode='bicubic',
                             align_corners=False)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=(self.img_size, self.img_size), mode='bicubic',
                          align_corners=False, antialias=self.antialias)
        x = (x - self.mean) / self.std
        tokens = self.vit.forward_intermediates(
            x, indices=list(self.blocks), return_prefix_tokens=True, norm=False,
            stop_early=True, output_fmt='NLC', intermediates_only=True)
        return torch.stack([prefix[:, 0] for _, prefix in tokens], dim=1)


_shared: 'weakref.WeakValueDictionary[tuple, SemanticEncoder]' = weakref.WeakValueDictionary()
_shared_lock = threading.Lock()


def build_semantic_encoder(name: str, pretrained: str | bool | None = None,
                           option: str = 'network_g.semantic_pretrained',
                           antialias: bool = False, pos_antialias: bool = False) -> SemanticEncoder:
    """Build, or reuse while alive, the frozen encoder for (name, file).

    BasicSR builds ``net_g`` and ``net_g_ema`` from the same options; sharing the frozen
    encoder keeps one 86M-parameter copy instead of two.
    """
    # the default device is part of the key: a meta-device build (parameter counting)
    # must not be handed to a real network later
    key = (name, None if pretrained is None else str(pretrained), str(torch.empty(0).device), antialias,
           pos_antialias)
    with _shared_lock:
        enc = _shared.get(key)
        if enc is None:
            enc = SemanticEncoder(name, pretrained, option, antialias, pos_antialias)
            _shared[key] = enc
        return enc

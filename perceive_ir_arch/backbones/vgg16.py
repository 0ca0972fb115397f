"""VGG16 features for the perceptual loss, frozen, as torchvision publishes the weights."""
from __future__ import annotations

import logging
from typing import Sequence

import torch
from torch import nn

from ..pretrained import PretrainedFileError, describe, load_strict, pretrained_part, pretrained_state
from .frozen import freeze, register_normalisation, seeded_build

__all__ = ['VGG16Features']

logger = logging.getLogger('basicsr.perceive_ir')


class VGG16Features(nn.Module):
    """Frozen torchvision VGG16 ``features`` read at the given module indices.

    The release taps indices 3, 7, 11, 15.  Index 7 is conv2_2, but torchvision's ReLU
    at index 8 runs in place and overwrites that tensor, so what the release reads there
    is relu2_2.  We compute the same thing explicitly: every tap is taken after the ReLU
    that follows it (relu1_2, relu2_2, relu3_1, relu3_3), with no in-place operations.
    """

    def __init__(self, taps: Sequence[int] = (3, 7, 11, 15), pretrained: str | bool | None = None,
                 option: str = 'train.dpl_opt.vgg_pretrained') -> None:
        super().__init__()
        import torchvision

        found = pretrained_state('vgg16', pretrained, option)
        vgg = seeded_build(lambda: torchvision.models.vgg16(weights=None))
        if found is None:
            logger.warning(f'VGG16 for the perceptual loss: RANDOM weights ({option}: ~). '
                           'Tests and demos only.')
        else:
            path, state = found
            needs = f'the perceptual loss needs {pretrained_part("vgg16").title}'
            if not any(k.startswith('features.') for k in state):
                raise PretrainedFileError(f'{option}: {path} is {describe(state)}; {needs}')
            load_strict(vgg, state, option=option, path=path, needs=needs)
            logger.info(f'VGG16 for the perceptual loss: weights from {path}')
        layers = list(vgg.features.children())
        # a tap on a conv output reads the ReLU after it (see the class docstring)
        self.taps = [i + 1 if isinstance(layers[i], nn.Conv2d) else i for i in taps]
        for layer in layers:
            if isinstance(layer, nn.ReLU):
                layer.inplace = False
        self.features = nn.Sequential(*layers[:max(self.taps) + 1])
        register_normalisation(self, pretrained_part('vgg16').mean_std)
        freeze(self)

    def train(self, mode: bool = True) -> 'VGG16Features':
        return self

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out

"""No-reference quality with the stage-1 perceiver: ``create_scorer(prompts)``.

>>> import os, tempfile, numpy as np, torch
>>> from perceive_ir_arch.archs import CLIPQualityPerceiver
>>> from perceive_ir_arch.inference.scoring import create_scorer
>>> prompts = os.path.join(tempfile.mkdtemp(), 'prompts.pth')
>>> torch.save({'params': CLIPQualityPerceiver('clip_tiny').state_dict()}, prompts)
>>> scorer = create_scorer(prompts, clip_model='clip_tiny', device='cpu')
>>> row = scorer.score(np.zeros((40, 60, 3), np.uint8))
>>> sorted(row), round(sum(row[f'p_{t}'] for t in ('terrible', 'mediocre', 'excellent')), 4)
(['p_excellent', 'p_mediocre', 'p_terrible', 'score'], 1.0)
"""
from __future__ import annotations

import os
from typing import Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ..archs import CLIPQualityPerceiver
from ..pretrained import locate
from ..utils.device import select_device
from ..utils.image_io import rgb_float

__all__ = ['Scorer', 'create_scorer']


class Scorer:
    """p(terrible), p(mediocre), p(excellent) and their expected tier (``score``, 0 to 2)
    of images of any size; see ``create_scorer``."""

    def __init__(self, perceiver: torch.nn.Module, device: torch.device, batch_size: int = 16) -> None:
        self.perceiver = perceiver.to(device).eval()
        self.device, self.batch_size = device, int(batch_size)
        with torch.no_grad():
            self.text = self.perceiver.text_features()
        self.scale = self.perceiver.scoring_scale()
        self.tiers = tuple(self.perceiver.class_names)

    def _tensor(self, image) -> torch.Tensor:
        """1 x 3 x h x w at the perceiver's input size, from an H x W (x C) array (uint8,
        uint16 or float) or a 3 x H x W tensor in [0, 1]; resized here, one image at a time,
        so that images of any size share a batch: plain bicubic, not clamped, as the
        perceiver was trained and as the release scores."""
        if isinstance(image, np.ndarray):
            image = torch.from_numpy(rgb_float(image)).permute(2, 0, 1)
        x = image.float()[None] if image.ndim == 3 else image.float()
        return F.interpolate(x, size=self.perceiver.image_size, mode='bicubic', align_corners=False)

    @torch.no_grad()
    def _rows(self, batch: list[torch.Tensor]) -> list[dict[str, float]]:
        logits = self.perceiver.logits(torch.cat(batch).to(self.device), text=self.text, scale=self.scale)
        p = logits.softmax(-1).cpu().numpy()
        return [{**{f'p_{t}': float(v) for t, v in zip(self.tiers, probs)},
                 'score': float(np.dot(probs, np.arange(len(probs))))} for probs in p]

    def score(self, image) -> dict[str, float]:
        """One image: a numpy array or a tensor in [0, 1]."""
        return self._rows([self._tensor(image)])[0]

    def score_many(self, images: Iterable) -> Iterator[dict[str, float]]:
        """Rows for many images, batched ``batch_size`` at a time, in order."""
        batch: list[torch.Tensor] = []
        for image in images:
            batch.append(self._tensor(image))
            if len(batch) == self.batch_size:
                yield from self._rows(batch)
                batch = []
        if batch:
            yield from self._rows(batch)


def create_scorer(prompts: str, *, clip_model: str = 'ViT-B-32', clip_weights: str | None = None,
                  device: str | torch.device = 'auto', batch_size: int = 16,
                  flag: str = 'clip_weights', prompts_flag: str = 'prompts') -> Scorer:
    """A ``Scorer`` from a stage-1 prompt file; the CLIP file is ``clip_weights``, else
    found by the lookup rule (``perceive_ir_arch.pretrained.locate``; never downloaded).
    ``flag`` / ``prompts_flag``: how messages name the two files (the command's flags).
    ``clip_tiny`` without a file builds the random test CLIP."""
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    clip_file = (clip_weights if clip_model == 'clip_tiny'
                 else locate(f'clip_{clip_model}', clip_weights or True, flag))
    perceiver = CLIPQualityPerceiver(clip_model, clip_file, pretrained_option=flag)
    perceiver.load_prompts(prompts, prompts_flag)
    return Scorer(perceiver, select_device(device), batch_size)

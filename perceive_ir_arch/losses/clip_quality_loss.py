"""CLIPQualityLoss (L_clip): push restored images towards the "excellent" quality tier."""
from __future__ import annotations

import torch
from torch import nn

from ..registry import register_loss
from ..archs.clip_quality_perceiver_arch import CLIPQualityPerceiver

__all__ = ['CLIPQualityLoss']


@register_loss
class CLIPQualityLoss(nn.Module):
    """L_clip = mean(1 - p_excellent) of the restored image under the frozen stage-1 perceiver.

    The image is clamped to [0, 1], resized bicubically to CLIP's input size and
    CLIP-normalised; p = softmax(logit_scale * cosines) with ``logit_scale`` 1 by default
    (the authors' release applies none here; stage 1 trains with 100).  CLIP and the
    prompts are frozen: gradients reach the image only.  The prompt features are
    computed once, at construction.

    Options: ``clip_model``, ``clip_pretrained`` (local file), ``prompt_file`` (the stage-1
    checkpoint; ~ = untrained prompts, for tests only), ``n_ctx``, ``logit_scale``.
    """

    def __init__(self, loss_weight: float = 1.0, clip_model: str = 'ViT-B-32',
                 clip_pretrained: str | bool | None = None, prompt_file: str | None = None,
                 n_ctx: int = 16, logit_scale: float = 1.0) -> None:
        super().__init__()
        try:  # the prompt file brings the text its context was trained with
            perceiver = CLIPQualityPerceiver(clip_model, clip_pretrained, n_ctx=n_ctx,
                                             logit_scale=logit_scale, prompt_file=prompt_file)
        except (FileNotFoundError, KeyError, ValueError) as exc:
            raise type(exc)(f'train.clip_quality_opt: {exc}') from None
        perceiver.requires_grad_(False)
        self.perceiver = perceiver
        with torch.no_grad():
            self.register_buffer('text', perceiver.text_features(), persistent=False)
        self.loss_weight = loss_weight

    def train(self, mode: bool = True) -> 'CLIPQualityLoss':
        return super().train(False)  # frozen: CLIP's dropout stays off

    def probabilities(self, image: torch.Tensor) -> torch.Tensor:
        """p over (terrible, mediocre, excellent) as the loss sees it."""
        return self.perceiver.logits(image.clamp(0, 1), text=self.text).softmax(dim=-1)

    def forward(self, pred: torch.Tensor, target: torch.Tensor | None = None, **kwargs) -> torch.Tensor:
        p = self.probabilities(pred.float())
        return self.loss_weight * (1.0 - p[:, -1]).mean()

"""CLIPQualityPerceiver: frozen CLIP + three learned prompts -> p(terrible, mediocre, excellent).

Stage 1 of Perceive-IR (docs/method.md section 1): class-specific prompt learning (CoOp style)
on a frozen CLIP.  Each quality tier has its own 16 context token embeddings, the last one
initialised from the tier word; the text is the 16 placeholders alone, as the release
tokenises it (``class_word_in_text``: "X X ... X terrible.").  The image is scored by
softmax over ``logit_scale * cosine(image feature, prompt feature)``.  Only the context
is trained; it is saved with the prompt tokens: the checkpoint is about 100 KB, CLIP
stays a local file of its own.
"""
from __future__ import annotations

import logging
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..backbones.clip import CLIP_ARCHS, build_clip
from ..backbones.frozen import HoldsFrozen, register_normalisation
from ..pretrained import (OPENAI_CLIP, PRETRAINED_PARTS, PretrainedFileError, describe, locate, pretrained_part,
                          read_checkpoint, read_trained)
from ..registry import register_arch

__all__ = ['CLIPQualityPerceiver', 'CLIP_ARCHS', 'QUALITY_TIERS']

logger = logging.getLogger('basicsr.perceive_ir')

QUALITY_TIERS: tuple[str, ...] = ('terrible', 'mediocre', 'excellent')

def _what_file(path: str, option: str, data: object) -> str:
    """What a file that is no prompt file holds, as the user is told (a trained network
    named as the one reader of trained networks names it)."""
    try:
        return read_trained(path, option).what
    except (PretrainedFileError, OSError, ValueError, KeyError):
        return describe(data)


@register_arch
class CLIPQualityPerceiver(HoldsFrozen):
    """Image in [0, 1] (B x 3 x H x W) -> p over the quality tiers (B x 3).

    Args:
        clip_model: 'ViT-B-32' (the paper), 'clip_tiny' (tests), or any open_clip name.
        clip_pretrained: CLIP weight file (OpenAI ``ViT-B-32.pt``, open_clip ``.bin`` /
            ``.safetensors``); true = the published file found by the lookup rule;
            None = random weights (logged).
        n_ctx: learnable context tokens per prompt.
        class_names: the tier words, worst first.
        logit_scale: multiplies the cosines before the softmax (100 in stage 1).
        prompt_file: a stage-1 file to load the context from (this project's BasicSR
            checkpoint, or the release's ``quality_prompts_100000.pth``).
        pretrained_option: what messages call ``clip_pretrained`` (a command's flag).
        class_word_in_text: tokenise "X X ... X <tier>." (CoOp / CLIP-IQA); the release
            tokenises the placeholders alone, the tier word entering only through the
            last context token's initialisation (false).
    """

    def __init__(self, clip_model: str = 'ViT-B-32', clip_pretrained: str | bool | None = None,
                 n_ctx: int = 16, class_names: Sequence[str] = QUALITY_TIERS,
                 logit_scale: float = 100.0, prompt_file: str | None = None,
                 pretrained_option: str = 'clip_pretrained', class_word_in_text: bool = False) -> None:
        super().__init__()
        import open_clip

        clip = build_clip(clip_model, clip_pretrained, pretrained_option)
        self.hold_frozen('clip', clip)
        self.clip_model = clip_model
        self.class_names = tuple(class_names)
        self.logit_scale = float(logit_scale)
        self.image_size = tuple(clip.visual.image_size) if isinstance(
            clip.visual.image_size, (tuple, list)) else (clip.visual.image_size,) * 2
        tokenizer = open_clip.get_tokenizer(CLIP_ARCHS.get(clip_model, (clip_model, {}))[0])
        template = ' '.join(['X'] * n_ctx)
        self._class_word_tokens = tokenizer([f'{template} {name}.' for name in self.class_names])
        tokens = self._class_word_tokens if class_word_in_text else tokenizer([template] * len(self.class_names))
        # saved with the context: prompts are scored with the text they were trained with
        self.register_buffer('tokens', tokens)
        self.n_ctx = n_ctx

        embedding = clip.token_embedding.weight
        ctx = torch.randn(len(self.class_names), n_ctx, embedding.shape[1],
                          generator=torch.Generator().manual_seed(0)) * 0.02
        with torch.no_grad():
            for i, name in enumerate(self.class_names):
                word = torch.tensor(tokenizer.encode(name), device=embedding.device)
                ctx[i, -1] = embedding[word].mean(0).to(ctx.device, ctx.dtype)
        self.ctx = nn.Parameter(ctx)
        part = pretrained_part(f'clip_{clip_model}')
        register_normalisation(self, part.mean_std if part else OPENAI_CLIP)
        self._from_release = False  # whose prompts: the release scores with CLIP's own scale
        if prompt_file is not None:
            self.load_prompts(prompt_file)

    def scoring_scale(self) -> float:
        """The logit scale a quality score uses: the release scores its prompts with its
        CLIP's own (``exp(logit_scale)``, 100 for OpenAI's); prompts learnt here, with the
        scale they were trained with (``logit_scale``)."""
        if self._from_release:
            return float(self.clip.logit_scale.exp())
        return self.logit_scale

    def prompt_record(self) -> dict:
        """What a prompt file needs of the perceiver that loads it (saved beside the
        context): the CLIP whose token embedding it was learnt in, the context length and
        the tiers."""
        return {'clip_model': self.clip_model, 'n_ctx': self.n_ctx, 'class_names': list(self.class_names)}

    def _check_record(self, record: dict, path: str, option: str) -> None:
        own = self.prompt_record()
        wrong = [k for k in own if k in record and record[k] != own[k]]
        if wrong:
            given = ', '.join(f'{k}: {record[k]}' for k in wrong)
            have = ', '.join(f'{k}: {own[k]}' for k in wrong)
            raise ValueError(f'{option}: {path!r} holds prompts learnt with {given}; this perceiver has '
                             f'{have} (set the perceiver\'s options to the file\'s)')

    def load_prompts(self, path: str, option: str = 'prompt_file') -> None:
        """Load the context from a stage-1 file, checking its keys and shape: this project's
        checkpoint (BasicSR ``params``) or the release's ``quality_prompts_*.pth``."""
        import os

        if not os.path.isfile(path):
            if path not in PRETRAINED_PARTS:
                raise FileNotFoundError(f'{option}: prompt checkpoint {path!r} does not exist; '
                                        'train it with options/train_quality_perceiver.yml (stage 1)')
            path = locate(path, True, option)  # the authors' file by its name: perceive_ir_prompts
        data = read_checkpoint(path, option)
        self._from_release = isinstance(data, dict) and isinstance(data.get('prompt_learner'), dict)
        if self._from_release:
            ctx, tokens = self._release_prompts(data, path, option)
        else:
            if isinstance(data, dict) and isinstance(data.get('perceiver'), dict):
                self._check_record(data['perceiver'], path, option)
            state = data.get('params') if isinstance(data, dict) else None
            if not isinstance(state, dict) or set(state) not in ({'ctx'}, {'ctx', 'tokens'}):
                raise PretrainedFileError(
                    f'{option}: {path} is {_what_file(path, option, data)}, not a stage-1 prompt file (a '
                    "quality-perceiver checkpoint holding ctx and tokens, or the authors' quality_prompts_*.pth)")
            # files without tokens predate the choice: they were trained with the class word
            ctx, tokens = state['ctx'], state.get('tokens', self._class_word_tokens)
        if ctx.shape != self.ctx.shape:
            raise ValueError(f"{option}: {path!r} holds ctx of shape {tuple(ctx.shape)}, "
                             f'this perceiver needs {tuple(self.ctx.shape)} (same CLIP, n_ctx, tiers)')
        if tokens.shape != self.tokens.shape:
            raise ValueError(f'{option}: {path!r} holds prompt tokens of shape {tuple(tokens.shape)}, '
                             f'this perceiver needs {tuple(self.tokens.shape)}')
        with torch.no_grad():
            self.ctx.copy_(ctx)
            self.tokens.copy_(tokens.long())

    def _release_prompts(self, data: dict, path: str, option: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(context, tokens) of the release's prompt file, after checking it was learnt for
        these tiers, this context length and this CLIP's token embedding."""
        learner = data['prompt_learner']
        missing = [k for k in ('context', 'token_prefix', 'tokenized_prompts') if k not in learner]
        if missing:
            raise KeyError(f"{option}: {path!r} is the release's prompt file without {missing} in "
                           'prompt_learner (expected context, token_prefix, token_suffix, tokenized_prompts)')
        names = tuple(data.get('quality_names', self.class_names))
        if names != self.class_names:
            raise ValueError(f"{option}: {path!r} holds prompts for the tiers {list(names)}, this "
                             f'perceiver scores {list(self.class_names)}')
        length = data.get('context_length', learner['context'].shape[1])
        if length != self.n_ctx:
            raise ValueError(f"{option}: {path!r} holds {length} context tokens per prompt, this "
                             f'perceiver has n_ctx: {self.n_ctx}')
        tokens = learner['tokenized_prompts']
        # the prompts' start token was embedded by the CLIP they were learnt with
        with torch.no_grad():
            start = self.clip.token_embedding(tokens[:, :1].long().to(self.ctx.device)).float()
        given = learner['token_prefix'].float().to(start.device)
        if given.shape != start.shape or (given - start).abs().max() > 1e-3 * start.abs().max():
            raise ValueError(f"{option}: {path!r} holds prompts learnt on another CLIP (its start-token "
                             "embedding differs from this CLIP's): give the CLIP file they were "
                             'trained with (OpenAI ViT-B/32)')
        return learner['context'], tokens

    def text_features(self) -> torch.Tensor:
        """L2-normalised prompt features, one row per tier."""
        clip = self.clip
        cast = clip.transformer.get_cast_dtype()
        x = clip.token_embedding(self.tokens).to(cast)
        x = torch.cat([x[:, :1], self.ctx.to(cast), x[:, 1 + self.n_ctx:]], dim=1)
        x = x + clip.positional_embedding.to(cast)
        x = clip.transformer(x, attn_mask=clip.attn_mask)
        x = clip.ln_final(x)
        x = x[torch.arange(x.shape[0], device=x.device), self.tokens.argmax(dim=-1)]  # end token
        if clip.text_projection is not None:
            x = clip.text_projection(x) if isinstance(clip.text_projection, nn.Linear) else x @ clip.text_projection
        return F.normalize(x, dim=-1)

    def image_features(self, image: torch.Tensor) -> torch.Tensor:
        """L2-normalised CLIP features of images in [0, 1] (bicubic to CLIP's input size)."""
        x = F.interpolate(image, size=self.image_size, mode='bicubic', align_corners=False)
        x = (x - self.mean) / self.std
        return F.normalize(self.clip.encode_image(x), dim=-1)

    def logits(self, image: torch.Tensor, text: torch.Tensor | None = None,
               scale: float | None = None) -> torch.Tensor:
        text = self.text_features() if text is None else text
        s = self.logit_scale if scale is None else scale
        return s * self.image_features(image) @ text.t()

    def forward(self, image: torch.Tensor, return_logits: bool = False) -> torch.Tensor:
        """p over the tiers; the logits instead with ``return_logits`` (for cross-entropy)."""
        logits = self.logits(image)
        return logits if return_logits else logits.softmax(dim=-1)

"""PerceiveIR: a Restormer-style 4-level U-Net steered by semantic and degradation prompts.

Guidance at each decoder level l (and the latent level):
    Y_l = X_l * (1 + gamma_l) + beta_l,   [gamma_l, beta_l] = PGM_l([F_l ; z])
where F_l is a frozen DINOv2 class token and z the CFE degradation vector; every block of
the level is an ETB that takes the previous block's output as x (X_l for the first) and
Y_l as its guidance g, and cross-attends from g.  With both guidance flags off, the
latent and decoder blocks are plain transformer blocks: the plain backbone.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..registry import register_arch
from ..backbones.frozen import HoldsFrozen
from .layers import Downsample, EnhancedTransformerBlock, TransformerBlock, Upsample, pad_to_multiple
from .degradation_encoder import build_degradation_encoder
from ..backbones.dinov2 import build_semantic_encoder

_BYTES_PER_PIXEL_PER_DIM = 128  # fp32 inference, see inference_bytes
# fp32 bytes a training forward keeps for backward, per pixel and unit of width: (per
# block-weight unit, for what no block holds: embeddings, resampling, skips, guidance; see
# training_bytes), fitted with saved-tensor hooks on the CPU (growth from 48^2 to 96^2) over
# five networks of widths 16-48 and 4-30 blocks (within 1% without checkpointing, 5% with;
# tests/test_training_paths.py checks others); 16-bit autocast keeps half
_TRAIN_BYTES = {False: (125.3, 38.4), True: (3.96, 40.2)}

__all__ = ['PerceiveIR', 'PromptGuidanceModule']


class PromptGuidanceModule(nn.Module):
    """PGM: guidance vector -> (gamma, beta) -> X * (1 + gamma) + beta."""

    def __init__(self, in_dim: int, dim: int, separate: bool = False) -> None:
        super().__init__()
        self.dim = dim
        if separate:  # the paper figure: one branch each for gamma and beta
            self.gamma = nn.Sequential(nn.Linear(in_dim, dim), nn.GELU(), nn.Linear(dim, dim))
            self.beta = nn.Sequential(nn.Linear(in_dim, dim), nn.GELU(), nn.Linear(dim, dim))
            self.mlp = None
        else:  # the release: one MLP whose output is split
            self.mlp = nn.Sequential(nn.Linear(in_dim, 2 * dim), nn.GELU(),
                                     nn.Linear(2 * dim, 2 * dim))

    def forward(self, x: torch.Tensor, prompt: torch.Tensor) -> torch.Tensor:
        if self.mlp is not None:
            gamma, beta = self.mlp(prompt).chunk(2, dim=1)
        else:
            gamma, beta = self.gamma(prompt), self.beta(prompt)
        return x * (1 + gamma[..., None, None]) + beta[..., None, None]


def run_blocks(blocks, x: torch.Tensor, *args: torch.Tensor, checkpointing: bool = False) -> torch.Tensor:
    """``x = block(x, *args)`` for each block; with ``checkpointing`` (and gradients on)
    each block's activations are recomputed in the backward pass instead of kept."""
    from torch.utils.checkpoint import checkpoint

    recompute = checkpointing and torch.is_grad_enabled() and x.requires_grad
    for blk in blocks:
        x = checkpoint(blk, x, *args, use_reentrant=False) if recompute else blk(x, *args)
    return x


class _GuidedLevel(nn.Module):
    """The blocks of one latent/decoder level, with their PGM when guided."""

    def __init__(self, dim: int, heads: int, depth: int, expansion: float, bias: bool,
                 prompt_dim: int, etb_variant: str, separate_pgm: bool) -> None:
        super().__init__()
        if prompt_dim:
            self.pgm = PromptGuidanceModule(prompt_dim, dim, separate_pgm)
            self.blocks = nn.ModuleList(
                EnhancedTransformerBlock(dim, heads, expansion, bias, etb_variant) for _ in range(depth))
        else:
            self.pgm = None
            self.blocks = nn.ModuleList(
                TransformerBlock(dim, heads, expansion, bias) for _ in range(depth))

    def forward(self, x: torch.Tensor, prompt: torch.Tensor | None, checkpointing: bool = False) -> torch.Tensor:
        if self.pgm is None:
            return run_blocks(self.blocks, x, checkpointing=checkpointing)
        return run_blocks(self.blocks, x, self.pgm(x, prompt), checkpointing=checkpointing)


@register_arch
class PerceiveIR(HoldsFrozen):
    """Perceive-IR restorer: B x 3 x H x W in [0, 1] -> restored image, same size.

    Args:
        dim: channels at level 1 (doubling per level: 48, 96, 192, 384).
        num_blocks: transformer blocks per level 1..4; levels 1-3 count both the encoder
            and the decoder, level 4 is the latent.
        num_refinement_blocks: TBs after the decoder at level-1 width.
        heads: attention heads per level.
        ffn_expansion_factor: GDFN width factor.
        bias: biases in every convolution (the release has them).
        semantic_guidance: feed DINOv2 class tokens to the PGMs.
        degradation_guidance: feed the CFE degradation vector z to the PGMs.
        semantic_encoder: a name in ``SEMANTIC_ENCODERS`` (DINOv2 ViT-B/14 by default).
        semantic_pretrained: its weight file; true = the published file found by the
            lookup rule (``perceive_ir_arch.pretrained.locate``); None = random weights (logged).
        degradation_dim: size of z.
        cfe_variant: 'release' (strided convs) or 'airnet' (paper figure).
        etb_variant: 'release' (extra MDTA in the ETB) or 'figure'.
        pgm_variant: 'joint' (release: one MLP, split) or 'separate' (figure).
        semantic_antialias: resize the image for DINOv2 with antialiasing (the release
            resizes with plain bicubic: false).
        cfe_centred_input: the CFE reads 2x - 1 instead of x in [0, 1] (the release:
            false); a random CFE then tells degradations apart from the start.
        checkpointing: recompute each transformer block's activations in the backward
            pass instead of keeping them (training only; the same gradients, less memory,
            about a third more compute).
        semantic_pos_antialias: resize DINOv2's published 37 x 37 position embedding to
            the encoder's grid with antialiasing (timm's default) instead of plain bicubic
            (the release's transformers model: false).  Restorer files written before
            version 3 ran with true and keep it.
        guide_padded: compute the guidance (DINOv2 tokens, z) from the image padded to a
            multiple of 8, as the release (which pads before its network) does; false: from
            the image as given.  Equal for sizes that are multiples of 8 (every training
            crop); restorer files written before version 4 ran with false and keep it.

    The semantic encoder is frozen and kept out of ``state_dict()``, ``parameters()`` and
    hence out of BasicSR's checkpoints, optimizer and EMA; ``.to()`` still moves it.
    """

    def __init__(self, dim: int = 48, num_blocks: Sequence[int] = (4, 6, 6, 8),
                 num_refinement_blocks: int = 4, heads: Sequence[int] = (1, 2, 4, 8),
                 ffn_expansion_factor: float = 2.66, bias: bool = True,
                 semantic_guidance: bool = True, degradation_guidance: bool = True,
                 semantic_encoder: str = 'dinov2_vitb14', semantic_pretrained: str | bool | None = None,
                 degradation_dim: int = 128, cfe_variant: str = 'release',
                 etb_variant: str = 'release', pgm_variant: str = 'joint',
                 semantic_antialias: bool = False, cfe_centred_input: bool = False,
                 semantic_pos_antialias: bool = False, checkpointing: bool = False,
                 guide_padded: bool = True) -> None:
        super().__init__()
        self.guide_padded = guide_padded
        if len(num_blocks) != 4 or len(heads) != 4:
            raise ValueError(f'num_blocks and heads need 4 entries (levels 1-4), got '
                             f'{list(num_blocks)} and {list(heads)}')
        if pgm_variant not in ('joint', 'separate'):
            raise ValueError(f"pgm_variant must be 'joint' or 'separate', got {pgm_variant!r}")
        self._semantic = None if not semantic_guidance else {
            'name': semantic_encoder, 'random': semantic_pretrained is None or semantic_pretrained is False}
        dims = [dim * 2 ** i for i in range(4)]
        exp = ffn_expansion_factor

        self.cfe = (build_degradation_encoder(cfe_variant, degradation_dim, cfe_centred_input)
                    if degradation_guidance else None)
        sem_dim = 0
        encoder = None
        if semantic_guidance:
            encoder = build_semantic_encoder(semantic_encoder, semantic_pretrained,
                                             antialias=semantic_antialias,
                                             pos_antialias=semantic_pos_antialias)
            sem_dim = encoder.dim
        self.hold_frozen('semantic_encoder', encoder)  # shared, never in state_dict / parameters
        prompt_dim = sem_dim + (degradation_dim if degradation_guidance else 0)

        self.embed = nn.Conv2d(3, dim, 3, padding=1, bias=bias)
        self.encoders = nn.ModuleList(
            nn.Sequential(*[TransformerBlock(dims[i], heads[i], exp, bias) for _ in range(num_blocks[i])])
            for i in range(3))
        self.downs = nn.ModuleList(Downsample(dims[i], bias) for i in range(3))
        self.latent = _GuidedLevel(dims[3], heads[3], num_blocks[3], exp, bias, prompt_dim,
                                   etb_variant, pgm_variant == 'separate')
        # decoder lists run from level 3 up to level 1
        self.ups = nn.ModuleList(Upsample(dims[i + 1], bias) for i in reversed(range(3)))
        self.reduces = nn.ModuleList(
            nn.Conv2d(dims[i + 1], dims[i], 1, bias=bias) for i in reversed(range(3)))
        self.decoders = nn.ModuleList(
            _GuidedLevel(dims[i], heads[i], num_blocks[i], exp, bias, prompt_dim, etb_variant,
                         pgm_variant == 'separate') for i in reversed(range(3)))
        self.refinement = nn.Sequential(
            *[TransformerBlock(dim, heads[0], exp, bias) for _ in range(num_refinement_blocks)])
        self.output = nn.Conv2d(dim, 3, 3, padding=1, bias=bias)
        self.checkpointing = checkpointing
        # activation layout: None = channels-last on the CPU, where its 1x1 and depthwise
        # convolutions and layer norms are faster (benchmarks/network.py), NCHW elsewhere
        self.channels_last: bool | None = None

    @property
    def guided(self) -> bool:
        return self.cfe is not None or self.semantic_encoder is not None

    # -- guidance ---------------------------------------------------------------------
    def semantic_features(self, x: torch.Tensor) -> torch.Tensor | None:
        """Frozen DINOv2 class tokens, B x 4 x D (None when semantic guidance is off).

        Compute once and pass to ``forward(semantic=...)`` to share them (tiles, losses).
        """
        enc = self.semantic_encoder
        if enc is None:
            return None
        if enc.mean.device != x.device:  # shared with another network on another device
            enc.to(x.device)
        return enc(x)

    @torch.no_grad()
    def whole_image_guidance(self, x: torch.Tensor, tile: int,
                             device: torch.device) -> dict[str, torch.Tensor]:
        """``forward`` keyword arguments (``semantic``, ``z``) for the whole image ``x``
        (1 x 3 x H x W, any device), computed without moving all of it to ``device``, so
        that every tile of a tiled restore is guided as the untiled image would be: the
        class tokens from a copy shrunk as the encoder would, z from the CFE features
        averaged over all tiles."""
        guidance: dict[str, torch.Tensor] = {}
        if self.semantic_encoder is not None:
            guidance['semantic'] = self.semantic_features(self.semantic_encoder.shrink(x).to(device))
        if self.cfe is not None:
            guidance['z'] = self.cfe.pooled_over_tiles(x, tile, device)
        return guidance

    def inference_bytes(self, pixels: int, element_size: int = 4) -> int:
        """Rough peak activation memory of an inference on ``pixels`` pixels, measured on
        CPU: about 6 KB/px at width 48 for 256^2 and 4.9 KB/px for 512^2 (fp32)."""
        return pixels * self.embed.out_channels * _BYTES_PER_PIXEL_PER_DIM * element_size // 4

    def training_bytes(self, batch: int, pixels: int, element_size: int = 4) -> int:
        """Rough activation memory a training forward keeps for its backward pass, for
        ``batch`` crops of ``pixels`` pixels (``element_size`` 2 under bf16 / fp16 autocast),
        with this network's ``checkpointing``.  A block at level l costs width x pixels / 2^(l-1);
        parameters, gradients, optimizer state, the frozen parts and the losses' own
        activations are not included."""
        n = [len(enc) for enc in self.encoders] + [len(self.latent.blocks)]
        weight = 2 * n[0] + len(self.refinement) + n[1] + n[2] / 2 + n[3] / 8
        per_block, rest = _TRAIN_BYTES[bool(self.checkpointing)]
        per_pixel = (per_block * weight + rest) * self.embed.out_channels
        return int(batch * pixels * per_pixel * element_size / 4)

    def semantic_identity(self) -> dict | None:
        """Which semantic encoder guides this network (``name``) and whether its weights
        were random stand-ins (``random``); None without semantic guidance.  A restorer
        file records it, since the encoder's weights are not in ``state_dict()``."""
        return None if self._semantic is None else dict(self._semantic)

    def degradation_vector(self, x: torch.Tensor) -> torch.Tensor:
        """The CFE's L2-normalised degradation vector z (B x degradation_dim)."""
        if self.cfe is None:
            raise RuntimeError('degradation_vector() needs degradation_guidance: true')
        return self.cfe(x)

    def _prompts(self, x: torch.Tensor, semantic: torch.Tensor | None,
                 z: torch.Tensor | None) -> list[torch.Tensor | None]:
        """Per-level guidance vectors for levels 1..4 (None everywhere when unguided)."""
        if not self.guided:
            return [None] * 4
        parts = []
        if self.semantic_encoder is not None:
            sem = self.semantic_features(x) if semantic is None else semantic
            parts.append(sem.to(x.dtype))
        if self.cfe is not None:
            z = self.cfe(x) if z is None else z
            parts.append(z[:, None, :].expand(-1, 4, -1))
        prompt = torch.cat(parts, dim=2)
        return list(prompt.unbind(dim=1))

    # -- forward ----------------------------------------------------------------------
    def forward(self, x: torch.Tensor, semantic: torch.Tensor | None = None,
                z: torch.Tensor | None = None, positive: torch.Tensor | None = None):
        """Restore ``x``; ``semantic`` / ``z`` may be given precomputed (whole-image
        guidance shared by tiles).

        Training with the contrastive loss passes ``positive`` (a second crop of each
        degraded image) and gets ``(restored, z, z_positive)``: one forward call, so that
        DistributedDataParallel sees every parameter it synchronises.
        """
        if positive is not None:
            z = self.degradation_vector(x) if z is None else z
            return self._restore(x, semantic, z), z, self.degradation_vector(positive)
        return self._restore(x, semantic, z)

    def _restore(self, x: torch.Tensor, semantic: torch.Tensor | None,
                 z: torch.Tensor | None) -> torch.Tensor:
        inp, h, w = pad_to_multiple(x, 8)
        prompts = self._prompts(inp if self.guide_padded else x, semantic, z)
        ckpt = self.checkpointing and self.training
        feat = self.embed(inp.contiguous(memory_format=self._memory_format(inp)))
        skips = []
        for enc, down in zip(self.encoders, self.downs):
            feat = run_blocks(enc, feat, checkpointing=ckpt)
            skips.append(feat)
            feat = down(feat)
        feat = self.latent(feat, prompts[3], ckpt)
        for up, reduce, dec, skip, prompt in zip(self.ups, self.reduces, self.decoders,
                                                 reversed(skips), reversed(prompts[:3])):
            feat = dec(reduce(torch.cat([up(feat), skip], dim=1)), prompt, ckpt)
        out = self.output(run_blocks(self.refinement, feat, checkpointing=ckpt)) + inp
        return out[..., :h, :w].contiguous()

    def _memory_format(self, x: torch.Tensor) -> torch.memory_format:
        last = x.device.type == 'cpu' if self.channels_last is None else self.channels_last
        return torch.channels_last if last else torch.contiguous_format

"""Where the plugin's losses can go in BasicSR's models, and the one message when they are
put where they cannot work.

``CLIPQualityLoss`` is an image loss: as ``pixel_opt`` of BasicSR's ``SRModel`` it works.
``DegradationContrastiveLoss`` needs degradation vectors and task labels, and
``DifficultyAdaptivePerceptualLoss`` the degraded input and task labels, which ``SRModel``
never passes.  The plugin's runner refuses them in an image-loss block before anything is
built (``check_loss_blocks``); under BasicSR's own runner the loss itself refuses the first
call that lacks what it needs (``refusal``), with the same advice.
"""
from __future__ import annotations

__all__ = ['NOT_IMAGE_LOSSES', 'check_loss_blocks', 'refusal']

# loss type -> (what it needs, the PerceiveIRModel block it belongs in)
NOT_IMAGE_LOSSES: dict[str, tuple[str, str]] = {
    'DegradationContrastiveLoss': ('degradation vectors and task labels', 'contrastive_opt'),
    'DifficultyAdaptivePerceptualLoss': ('the degraded input and task labels', 'dpl_opt'),
}
_IMAGE_BLOCKS = ('pixel_opt', 'perceptual_opt', 'ldl_opt', 'gan_opt')


def refusal(kind: str, block: str | None = None, model: str | None = None) -> TypeError:
    """The error for loss ``kind`` used as an image loss (in ``train.<block>``, when known)."""
    needs, home = NOT_IMAGE_LOSSES[kind]
    where = f'train.{block}: ' if block else ''
    return TypeError(f'{where}{kind} is not an image loss (it needs {needs}, which '
                     f'{model or "this model"} does not pass); put it in train.{home} with '
                     'model_type: PerceiveIRModel')


def check_loss_blocks(opt: dict) -> None:
    """Raise TypeError when an image-loss block of ``opt['train']`` holds a plugin loss
    that is not an image loss."""
    train = opt.get('train') or {}
    for block in _IMAGE_BLOCKS:
        spec = train.get(block)
        kind = spec.get('type') if isinstance(spec, dict) else None
        if kind in NOT_IMAGE_LOSSES:
            raise refusal(kind, block, opt.get('model_type'))

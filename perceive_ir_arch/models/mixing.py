"""The plugin's losses in BasicSR's own models: refused at build time where they cannot work.

``CLIPQualityLoss`` is an image loss: as ``pixel_opt`` of BasicSR's ``SRModel`` it works.
``DegradationContrastiveLoss`` needs degradation vectors and task labels, and
``DifficultyAdaptivePerceptualLoss`` the degraded input and task labels, which
``SRModel`` never passes: given as its ``pixel_opt`` / ``perceptual_opt`` they would fail
at the first iteration with a bare TypeError.  ``check_loss_blocks`` refuses them when the
model is built, naming the block of ``PerceiveIRModel`` they belong in; every BasicSR model
derived from ``SRModel`` is checked.
"""
from __future__ import annotations

__all__ = ['NOT_IMAGE_LOSSES', 'check_loss_blocks', 'install']

# loss type -> (what it needs, the PerceiveIRModel block it belongs in)
NOT_IMAGE_LOSSES: dict[str, tuple[str, str]] = {
    'DegradationContrastiveLoss': ('degradation vectors and task labels', 'contrastive_opt'),
    'DifficultyAdaptivePerceptualLoss': ('the degraded input and task labels', 'dpl_opt'),
}
_IMAGE_BLOCKS = ('pixel_opt', 'perceptual_opt', 'ldl_opt', 'gan_opt')


def check_loss_blocks(opt: dict) -> None:
    """Raise TypeError when an image-loss block of ``opt['train']`` holds a plugin loss
    that is not an image loss."""
    train = opt.get('train') or {}
    for block in _IMAGE_BLOCKS:
        spec = train.get(block)
        kind = spec.get('type') if isinstance(spec, dict) else None
        if kind in NOT_IMAGE_LOSSES:
            needs, home = NOT_IMAGE_LOSSES[kind]
            raise TypeError(f'train.{block}: {kind} is not an image loss (it needs {needs}, which '
                            f"{opt.get('model_type', 'this model')} does not pass); put it in "
                            f'train.{home} with model_type: PerceiveIRModel')


def install() -> None:
    """Check the loss blocks when a training ``SRModel`` (or a model derived from it:
    SRGANModel, ESRGANModel, PerceiveIRModel, ...) is built, before any loss; idempotent."""
    from basicsr.models.sr_model import SRModel

    original = SRModel.__init__
    if getattr(original, '_perceive_ir_checked', False):
        return

    def __init__(self, opt, *args, **kwargs):
        if opt.get('is_train'):
            check_loss_blocks(opt)
        original(self, opt, *args, **kwargs)

    __init__._perceive_ir_checked = True
    SRModel.__init__ = __init__

"""Losses registered in BasicSR's LOSS_REGISTRY; each takes (pred, target) first.  Every
``*_loss.py`` module of this folder is imported, so a new loss registers without an edit here."""
from ..registry import import_modules
from .clip_quality_loss import CLIPQualityLoss
from .degradation_contrastive_loss import DegradationContrastiveLoss
from .difficulty_adaptive_perceptual_loss import DifficultyAdaptivePerceptualLoss
from .proxy import Proxy

import_modules(__name__, __path__[0], '_loss')

__all__ = ['CLIPQualityLoss', 'DegradationContrastiveLoss', 'DifficultyAdaptivePerceptualLoss', 'Proxy']

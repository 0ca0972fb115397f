"""Losses registered in BasicSR's LOSS_REGISTRY; each takes (pred, target) first."""
from .clip_quality_loss import CLIPQualityLoss
from .degradation_contrastive_loss import DegradationContrastiveLoss
from .difficulty_adaptive_perceptual_loss import DifficultyAdaptivePerceptualLoss

__all__ = ['CLIPQualityLoss', 'DegradationContrastiveLoss', 'DifficultyAdaptivePerceptualLoss']

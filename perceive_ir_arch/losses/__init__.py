"""Losses registered in BasicSR's LOSS_REGISTRY; each takes (pred, target) first."""
from .clip_quality_loss import CLIPQualityLoss
from .degradation_contrastive_loss import DegradationContrastiveLoss

__all__ = ['CLIPQualityLoss', 'DegradationContrastiveLoss']

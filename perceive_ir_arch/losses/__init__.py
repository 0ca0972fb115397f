"""Losses registered in BasicSR's LOSS_REGISTRY; each takes (pred, target) first."""
from .degradation_contrastive_loss import DegradationContrastiveLoss

__all__ = ['DegradationContrastiveLoss']

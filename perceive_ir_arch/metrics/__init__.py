"""Metrics registered in BasicSR's METRIC_REGISTRY."""
from .ssim_skimage import calculate_ssim_skimage, ssim_uniform

__all__ = ['calculate_ssim_skimage', 'ssim_uniform']

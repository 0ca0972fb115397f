"""Metrics: SSIM as the peers compute it (registered in BasicSR's METRIC_REGISTRY), and the
per-image batch PSNR the training decisions use (L_dpl's lambda, its probe)."""
from .psnr import batch_psnr
from .ssim_skimage import calculate_ssim_skimage, ssim_uniform

__all__ = ['batch_psnr', 'calculate_ssim_skimage', 'ssim_uniform']

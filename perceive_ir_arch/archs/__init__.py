"""Architectures: importing this package registers them in BasicSR's ARCH_REGISTRY."""
from .clip_quality_perceiver_arch import CLIP_ARCHS, QUALITY_TIERS, CLIPQualityPerceiver
from .perceive_ir_arch import PerceiveIR, PromptGuidanceModule
from .semantic_encoder import SEMANTIC_ENCODERS, SemanticEncoder

__all__ = ['CLIP_ARCHS', 'CLIPQualityPerceiver', 'QUALITY_TIERS', 'PerceiveIR', 'PromptGuidanceModule', 'SEMANTIC_ENCODERS', 'SemanticEncoder']

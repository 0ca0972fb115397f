"""Architectures: importing this package registers them in BasicSR's ARCH_REGISTRY."""
from .perceive_ir_arch import PerceiveIR, PromptGuidanceModule
from .semantic_encoder import SEMANTIC_ENCODERS, SemanticEncoder

__all__ = ['PerceiveIR', 'PromptGuidanceModule', 'SEMANTIC_ENCODERS', 'SemanticEncoder']

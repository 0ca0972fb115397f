"""Architectures: importing this package registers them in BasicSR's ARCH_REGISTRY, and
makes every registered network, BasicSR's own too, record the options that build it."""
import basicsr.archs  # noqa: F401  (fills ARCH_REGISTRY with BasicSR's networks)

from .._registry import record_registered_archs
from .clip_quality_perceiver_arch import CLIP_ARCHS, QUALITY_TIERS, CLIPQualityPerceiver
from .fsnet_arch import FSNet
from .instructir_arch import InstructIR
from .mambair_arch import MambaIR
from .nafnet_arch import NAFNet
from .perceive_ir_arch import PerceiveIR, PromptGuidanceModule
from .promptir_arch import PromptIR
from .retinexformer_arch import RetinexFormer
from .semantic_encoder import SEMANTIC_ENCODERS, SemanticEncoder

record_registered_archs()

__all__ = ['CLIP_ARCHS', 'CLIPQualityPerceiver', 'QUALITY_TIERS', 'FSNet', 'InstructIR', 'MambaIR', 'NAFNet', 'PerceiveIR', 'PromptGuidanceModule', 'PromptIR', 'RetinexFormer', 'SEMANTIC_ENCODERS', 'SemanticEncoder']

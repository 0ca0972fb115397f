"""Models registered in BasicSR's MODEL_REGISTRY."""
from . import mixing
from .perceive_ir_model import PerceiveIRModel
from .quality_perceiver_model import QualityPerceiverModel

mixing.install()  # the plugin's non-image losses are refused in BasicSR's image-loss blocks

__all__ = ['PerceiveIRModel', 'QualityPerceiverModel']

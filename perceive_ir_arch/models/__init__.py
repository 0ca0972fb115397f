"""Models registered in BasicSR's MODEL_REGISTRY."""
from .perceive_ir_model import PerceiveIRModel
from .quality_perceiver_model import QualityPerceiverModel

__all__ = ['PerceiveIRModel', 'QualityPerceiverModel']

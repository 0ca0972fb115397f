"""Models registered in BasicSR's MODEL_REGISTRY."""
from .perceive_ir_model import PerceiveIRModel

__all__ = ['PerceiveIRModel']

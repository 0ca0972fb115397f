"""Models registered in BasicSR's MODEL_REGISTRY (every ``*_model.py`` module of this folder)."""
from ..registry import import_modules
from .perceive_ir_model import PerceiveIRModel
from .quality_perceiver_model import QualityPerceiverModel

import_modules(__name__, __path__[0], '_model')

__all__ = ['PerceiveIRModel', 'QualityPerceiverModel']

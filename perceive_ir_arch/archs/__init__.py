"""Architectures: importing this package registers every ``*_arch.py`` module's networks in
BasicSR's ARCH_REGISTRY (a new file is found without an edit here), and the readers of the
file formats the architectures own (``perceive_ir_release``)."""
from ..registry import import_modules
from .adair_arch import AdaIR
from .airnet_arch import AirNet
from .clip_quality_perceiver_arch import QUALITY_TIERS, CLIPQualityPerceiver
from .fsnet_arch import FSNet
from .instructir_arch import InstructIR
from .mambair_arch import MambaIR
from .nafnet_arch import NAFNet, NAFNetLocal
from .perceive_ir_arch import PerceiveIR, PromptGuidanceModule
from . import perceive_ir_release  # noqa: F401  (registers the reader of the authors' files)
from .promptir_arch import PromptIR
from .retinexformer_arch import RetinexFormer

import_modules(__name__, __path__[0], '_arch')

__all__ = ['AdaIR', 'AirNet', 'CLIPQualityPerceiver', 'QUALITY_TIERS', 'FSNet', 'InstructIR', 'MambaIR', 'NAFNet',
           'NAFNetLocal', 'PerceiveIR',
           'PromptGuidanceModule', 'PromptIR', 'RetinexFormer']

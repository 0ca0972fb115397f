"""perceive-ir: Perceive-IR all-in-one image restoration as a BasicSR plugin.

``import perceive_ir_arch`` registers the plugin's architectures, datasets, metrics,
losses and models into BasicSR's registries.  Once the package is installed this also
happens by itself whenever ``basicsr`` is imported (see ``perceive_ir_autoload``).
"""
import perceive_ir_autoload as _autoload

_autoload.install()  # basicsr 1.4.2 needs the torchvision alias before its first import

from . import archs, data, losses, metrics, models  # noqa: E402  (registration side effects)
from .archs import PerceiveIR  # noqa: E402
from .inference import Restorer, Scorer, create_restorer, create_scorer, save_restorer  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ['archs', 'data', 'losses', 'metrics', 'models', 'PerceiveIR', 'Restorer', 'Scorer',
           'create_restorer', 'create_scorer', 'save_restorer', '__version__']

"""Using a trained restorer or quality perceiver: restorer files, tiled restoration of images
of any size, quality scores, ONNX export.  Nothing here trains or touches BasicSR's runner."""
from .restorer import PROTOCOLS, Restorer, create_restorer, parse_memory
from .restorer_file import FORMAT, network_from_file, read_options, save_restorer
from .scoring import Scorer, create_scorer

__all__ = ['FORMAT', 'PROTOCOLS', 'Restorer', 'Scorer', 'create_restorer', 'create_scorer', 'network_from_file',
           'parse_memory', 'read_options', 'save_restorer']

"""Datasets (every ``*_dataset.py`` module, registered in BasicSR's DATASET_REGISTRY) and degradation synthesis."""
from ..registry import import_modules
from .layouts import LAYOUTS
from .mixed_degradation_dataset import MixedDegradationDataset
from .quality_tier_dataset import QualityTierDataset
from .tasks import TASK_TABLE, TASKS, Task

import_modules(__name__, __path__[0], '_dataset')

__all__ = ['LAYOUTS', 'TASK_TABLE', 'TASKS', 'Task', 'MixedDegradationDataset', 'QualityTierDataset']

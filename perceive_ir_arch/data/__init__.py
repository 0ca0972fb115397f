"""Datasets (registered in BasicSR's DATASET_REGISTRY) and degradation synthesis."""
from .layouts import LAYOUTS
from .mixed_degradation_dataset import MixedDegradationDataset
from .quality_tier_dataset import QualityTierDataset
from .tasks import TASK_TABLE, TASKS, Task

__all__ = ['LAYOUTS', 'TASK_TABLE', 'TASKS', 'Task', 'MixedDegradationDataset', 'QualityTierDataset']

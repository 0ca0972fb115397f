"""Datasets (registered in BasicSR's DATASET_REGISTRY) and degradation synthesis."""
from .layouts import LAYOUTS, TASKS
from .mixed_degradation_dataset import MixedDegradationDataset

__all__ = ['LAYOUTS', 'TASKS', 'MixedDegradationDataset']

"""Datasets (registered in BasicSR's DATASET_REGISTRY) and degradation synthesis."""
from .layouts import LAYOUTS, TASKS
from .mixed_degradation_dataset import MixedDegradationDataset
from .quality_tier_dataset import QualityTierDataset

__all__ = ['LAYOUTS', 'TASKS', 'MixedDegradationDataset', 'QualityTierDataset']

"""How each task's data is made: a new task is its name in ``perceive_ir_arch/tasks.py``
and one entry here.

Each entry names the task, how its degradation is made from a clean image (for sources
with clean images only), the layout a source of the task defaults to, and the levels its
synthesiser takes (denoise: the noise sigmas, set per source with ``sigmas``).  The table
follows the order of ``TASKS``, the integer task label.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..tasks import TASKS, check_task
from .degradations import (add_gaussian_noise, synthesize_haze, synthesize_low_light,
                           synthesize_motion_blur, synthesize_rain)

__all__ = ['Task', 'TASK_TABLE', 'TASKS', 'task_named']


@dataclass(frozen=True)
class Task:
    name: str
    synthesize: Callable[..., np.ndarray]  # (clean, rng[, level]) -> degraded
    default_layout: str | None = None  # None: a source must name its layout
    levels: tuple[float, ...] = ()  # default synthesis levels; () = the synthesiser takes none
    levels_option: str = ''  # the source key that sets them

    def degrade(self, clean: np.ndarray, rng: np.random.Generator, level: float | None = None) -> np.ndarray:
        """The degraded image, at ``level`` when the task has levels."""
        return self.synthesize(clean, rng, level) if self.levels else self.synthesize(clean, rng)

    def tag(self, level: float | None) -> str:
        """What a synthesised sample is called: ``denoise25``, ``derain``."""
        return f'{self.name}{level:g}' if level is not None else self.name


TASK_TABLE: tuple[Task, ...] = (
    Task('denoise', add_gaussian_noise, default_layout='synthetic', levels=(15.0, 25.0, 50.0),
         levels_option='sigmas'),
    Task('derain', synthesize_rain),
    Task('dehaze', synthesize_haze),
    Task('deblur', synthesize_motion_blur),
    Task('lowlight', synthesize_low_light),
)

if tuple(t.name for t in TASK_TABLE) != TASKS:  # one order: the task labels
    raise ImportError('data/tasks.py: TASK_TABLE must list the tasks of perceive_ir_arch.tasks.TASKS in order')
_BY_NAME = {t.name: t for t in TASK_TABLE}


def task_named(name: object, option: str) -> Task:
    """The table entry of ``name``; a ValueError naming ``option`` otherwise."""
    return _BY_NAME[check_task(name, option)]

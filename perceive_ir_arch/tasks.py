"""The restoration tasks by name, for every part of the plugin: the order is the integer
label (``task_id``) every sample carries and the losses, models and tables read.  How a
task's degradation is made lives with the data (``data/tasks.py``)."""
from __future__ import annotations

from .utils.suggest import did_you_mean

__all__ = ['TASKS', 'check_task']

TASKS: tuple[str, ...] = ('denoise', 'derain', 'dehaze', 'deblur', 'lowlight')


def check_task(name: object, option: str) -> str:
    """``name`` if it is a task; a ValueError naming ``option`` with the closest otherwise."""
    if name not in TASKS:
        hint = did_you_mean(str(name), TASKS) if isinstance(name, str) else ''
        raise ValueError(f'{option}: {name!r} is not one of {list(TASKS)}{hint}')
    return str(name)

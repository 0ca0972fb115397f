"""The sources of a MixedDegradationDataset: one folder (or LMDB) per task and layout,
indexed once, its degraded / clean pairs matched by the layout's file-name rule."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from ..utils.suggest import did_you_mean
from .folders import index_folder, lmdb_path_of
from .layouts import LAYOUTS
from .tasks import TASK_TABLE, Task, task_named

__all__ = ['SOURCE_KEYS', 'Item', 'Source', 'build_source', 'check_source_keys', 'source_levels']

SOURCE_KEYS = {'task', 'layout', 'dataroot', 'dataroot_lq', 'dataroot_gt', 'lq_dir', 'gt_dir',
                'lq_pattern', 'gt_name', 'repeat'} | {t.levels_option for t in TASK_TABLE if t.levels_option}


@dataclass(frozen=True)
class Item:
    lq: str | None  # file path (disk) or key (lmdb); None when synthesised
    gt: str
    name: str  # relative name without extension, unique within the source
    level: float | None  # fixed synthesis level (evaluation: denoise's sigma) or None
    scene: str = ''  # what the pair shows (its clean image, or sequence): the fold key


@dataclass
class Source:
    spec: Task
    layout: str
    items: list[Item]
    repeat: int
    levels: tuple[float, ...]  # synthesis levels drawn from in training
    lq_db: str | None  # LMDB client keys (the .lmdb paths)
    gt_db: str | None

    @property
    def task(self) -> str:
        return self.spec.name

    @property
    def synthetic(self) -> bool:
        return self.items[0].lq is None


def check_source_keys(src: dict, where: str) -> None:
    for key in src:
        if key not in SOURCE_KEYS:
            raise KeyError(f'{where}: unknown key {key!r}{did_you_mean(key, SOURCE_KEYS)}; '
                           f'allowed: {sorted(SOURCE_KEYS)}')


def source_levels(value: Any, option: str) -> tuple[float, ...]:
    """Synthesis levels (denoise: sigmas on the 0-255 scale): a list of numbers > 0."""
    values = value if isinstance(value, (list, tuple)) else [value]
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0]
    if bad:
        raise ValueError(f'{option}: expected a list of numbers > 0 (noise sigmas on the 0-255 scale), '
                         f'got {value!r}')
    return tuple(float(v) for v in values)


def build_source(src: dict, where: str, backend: str, train: bool) -> Source:
    check_source_keys(src, where)
    spec = task_named(src.get('task'), f'{where}.task')
    task = spec.name
    layout_name = src.get('layout', spec.default_layout)
    if layout_name is None:
        raise KeyError(f'{where}.layout: required for task {task!r}; one of {sorted(LAYOUTS)}')
    if layout_name not in LAYOUTS:
        raise ValueError(f'{where}.layout: {layout_name!r} is not a layout{did_you_mean(layout_name, LAYOUTS)}; '
                         f'one of {sorted(LAYOUTS)}')
    layout = LAYOUTS[layout_name]
    repeat = int(src.get('repeat', 1))
    if repeat < 1:
        raise ValueError(f'{where}.repeat must be >= 1, got {repeat}')
    for option in {t.levels_option for t in TASK_TABLE} - {spec.levels_option, ''}:
        if option in src:
            raise KeyError(f'{where}.{option}: task {task!r} takes no {option}')
    levels = source_levels(src.get(spec.levels_option, spec.levels), f'{where}.{spec.levels_option}') if spec.levels else ()
    if spec.levels and not levels:
        raise ValueError(f'{where}.{spec.levels_option}: {task} needs at least one level')

    def root(kind: str) -> str:
        explicit = src.get(f'dataroot_{kind}')
        if explicit is not None:
            return str(explicit)
        if src.get('dataroot') is None:
            raise KeyError(f'{where}: give dataroot (or dataroot_lq and dataroot_gt)')
        sub = src.get(f'{kind}_dir', getattr(layout, f'{kind}_dir'))
        return os.path.join(str(src['dataroot']), sub) if sub else str(src['dataroot'])

    gt_root = root('gt')
    gt_index = index_folder(gt_root, backend)
    gt_db = lmdb_path_of(gt_root) if backend == 'lmdb' else None
    if not gt_index:
        raise ValueError(f'{where}: no images in {gt_root!r} (layout {layout_name!r}: '
                         f'{layout.example})')

    if layout.lq_dir is None:  # synthetic: clean images only
        fixed = levels if levels and not train else (None,)  # one evaluation sample per level
        items = [Item(None, gt, name, v, name) for name, gt in gt_index.items() for v in fixed]
        return Source(spec, layout_name, items, repeat, levels, None, gt_db)

    lq_root = root('lq')
    lq_index = index_folder(lq_root, backend)
    lq_db = lmdb_path_of(lq_root) if backend == 'lmdb' else None
    pattern = re.compile(src.get('lq_pattern', layout.lq_pattern))
    template = src.get('gt_name', layout.gt_name)
    scene = layout.scene if template == layout.gt_name and pattern.pattern == layout.lq_pattern else ''
    items, missing = [], []
    for name, lq in lq_index.items():
        m = pattern.fullmatch(name)
        if m is None:
            continue  # e.g. the sharp/ images beside blur/ in the GoPro layout
        groups = {k: v or '' for k, v in m.groupdict().items()}
        gt_name = template.format(**groups)
        if gt_name in gt_index:
            items.append(Item(lq, gt_index[gt_name], name, None, scene.format(**groups) if scene else gt_name))
        else:
            missing.append(f'{name} -> {gt_name}')
    if missing:
        shown = '; '.join(missing[:5]) + (f'; ... ({len(missing)} in all)' if len(missing) > 5 else '')
        raise FileNotFoundError(
            f'{where}: {len(missing)} degraded images in {lq_root!r} have no clean image in '
            f'{gt_root!r} (layout {layout_name!r}: {layout.example}): {shown}')
    if not items:
        raise ValueError(f'{where}: no degraded image in {lq_root!r} matches the layout '
                         f'{layout_name!r} ({layout.example}); found {len(lq_index)} images')
    return Source(spec, layout_name, items, repeat, levels, lq_db, gt_db)

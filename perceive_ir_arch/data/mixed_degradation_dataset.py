"""MixedDegradationDataset: all-in-one training and test data, one task label per sample."""
from __future__ import annotations

import bisect
import logging
import os
import re
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils import data

from ..registry import register_dataset
from ..utils.image_io import decode_image
from ..utils.once import Once
from ..utils.suggest import did_you_mean
from ._crop import fit_to_crop, random_window
from .folders import index_folder, lmdb_path_of
from .folds import fold_of
from .layouts import LAYOUTS
from .options import check_dataset_keys
from .tasks import TASK_TABLE, TASKS, Task, task_named

__all__ = ['MixedDegradationDataset']

logger = logging.getLogger('basicsr.perceive_ir')
_REDRAWS = 100  # unreadable samples in a row before a task is given up

_SOURCE_KEYS = {'task', 'layout', 'dataroot', 'dataroot_lq', 'dataroot_gt', 'lq_dir', 'gt_dir',
                'lq_pattern', 'gt_name', 'repeat'} | {t.levels_option for t in TASK_TABLE if t.levels_option}


@dataclass(frozen=True)
class _Item:
    lq: str | None  # file path (disk) or key (lmdb); None when synthesised
    gt: str
    name: str  # relative name without extension, unique within the source
    level: float | None  # fixed synthesis level (evaluation: denoise's sigma) or None
    scene: str = ''  # what the pair shows (its clean image, or sequence): the fold key


@dataclass
class _Source:
    spec: Task
    layout: str
    items: list[_Item]
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


def _check_keys(src: dict, where: str) -> None:
    for key in src:
        if key not in _SOURCE_KEYS:
            raise KeyError(f'{where}: unknown key {key!r}{did_you_mean(key, _SOURCE_KEYS)}; '
                           f'allowed: {sorted(_SOURCE_KEYS)}')


def _stable_hash(text: str) -> int:
    return zlib.crc32(text.encode('utf-8'))


def _levels(value: Any, option: str) -> tuple[float, ...]:
    """Synthesis levels (denoise: sigmas on the 0-255 scale): a list of numbers > 0."""
    values = value if isinstance(value, (list, tuple)) else [value]
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0]
    if bad:
        raise ValueError(f'{option}: expected a list of numbers > 0 (noise sigmas on the 0-255 scale), '
                         f'got {value!r}')
    return tuple(float(v) for v in values)


def _build_source(src: dict, where: str, backend: str, train: bool) -> _Source:
    _check_keys(src, where)
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
    levels = _levels(src.get(spec.levels_option, spec.levels), f'{where}.{spec.levels_option}') if spec.levels else ()
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
        items = [_Item(None, gt, name, v, name) for name, gt in gt_index.items() for v in fixed]
        return _Source(spec, layout_name, items, repeat, levels, None, gt_db)

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
            items.append(_Item(lq, gt_index[gt_name], name, None, scene.format(**groups) if scene else gt_name))
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
    return _Source(spec, layout_name, items, repeat, levels, lq_db, gt_db)


def _center_crop(img: np.ndarray, multiple: int) -> np.ndarray:
    h, w = img.shape[:2]
    dh, dw = h % multiple, w % multiple
    return img[dh // 2:h - dh + dh // 2, dw // 2:w - dw + dw // 2]


# the keys of a dataset block this dataset reads (BasicSR's runner reads others)
DATASET_KEYS = ('sources', 'gt_size', 'use_hflip', 'use_vflip', 'use_rot', 'positive_crop', 'seed',
                'center_crop_multiple', 'fold', 'num_folds', 'medium_root', 'proxy_root', 'io_backend',
                'bad_samples')


@register_dataset
class MixedDegradationDataset(data.Dataset):
    """Degraded/clean pairs from several tasks and folder layouts, each with its task.

    Options (BasicSR dataset block)::

        type: MixedDegradationDataset
        sources:                       # one entry per folder; tasks may repeat
          - {task: denoise, layout: synthetic, dataroot: Train/Denoise, sigmas: [15, 25, 50], repeat: 12}
          - {task: derain, layout: rain_promptir, dataroot: Train/Derain, repeat: 360}
          - {task: dehaze, layout: reside_ots, dataroot: Train/Dehaze}
        gt_size: 128                   # training crop (same place in lq and gt)
        use_hflip: true                # training flips; use_vflip, use_rot likewise
        positive_crop: false           # also return lq_pos, a second crop of the same lq
        seed: 0                        # fixes evaluation degradations
        center_crop_multiple: 16       # evaluation: centre-crop lq and gt to a multiple
                                       # (the peers' protocol, docs/method.md section 4)
        fold: ~                        # 0 or 1: keep only that half of the pairs (stage 1,
                                       # see data/folds.py); num_folds: 2
        medium_root: ~                 # stage 2: the stage-1b renders; samples then carry
                                       # medium (the render, same crop) and has_medium;
                                       # every training sample carries its fold
        proxy_root: ~                  # stage 2: the L_dpl proxies' renders, one folder per
                                       # proxy name (render_medium's proxy_root); samples
                                       # carry render_<name> and has_render_<name>
        io_backend: {type: disk}       # or lmdb: folder X is read from X.lmdb
        bad_samples: skip              # training default: a sample that cannot be read
                                       # (truncated, not an image, a pair of different
                                       # sizes) is logged once with its path and replaced
                                       # by a random sample of the same task; raise: stop.
                                       # Evaluation default: raise

    Training images under ``gt_size`` are upscaled (bicubic, shorter side to the crop,
    before any noise is added) as the authors' release does, not dropped.

    Grey, RGBA, 16-bit and CMYK files are converted to RGB floats.  Training samples: random crop and flips, random noise level and synthetic
    degradation, drawn from a generator seeded by numpy's global state (BasicSR seeds it
    per worker; ``python -m perceive_ir_arch.train`` per sample, ``data/sampling.py``).  Evaluation samples: whole images, degradations fixed by
    ``seed`` and the file name; denoise sources give one sample per image and sigma.

    Every sample has ``lq``, ``gt`` (RGB float tensors in [0, 1]), ``lq_path``,
    ``gt_path``, ``task`` (name) and ``task_id`` (index in ``tasks.TASKS``).  The lq
    path of a synthesised sample is a virtual name ``<gt stem>_<task>[<sigma>].png`` beside
    the clean file, which keeps saved outputs apart.
    """

    gives_task_labels = True  # every sample has task and task_id

    def __init__(self, opt: dict[str, Any]) -> None:
        super().__init__()
        self.opt = opt
        name = opt.get('name', 'MixedDegradationDataset')
        check_dataset_keys(opt, DATASET_KEYS, name, 'MixedDegradationDataset')
        self.train = opt.get('phase', 'train') == 'train'
        io = dict(opt.get('io_backend') or {'type': 'disk'})
        self.backend = io.pop('type')
        if self.backend not in ('disk', 'lmdb'):
            raise ValueError(f'{name}.io_backend.type must be disk or lmdb, got {self.backend!r}')
        self.io_kwargs = io
        self.gt_size = opt.get('gt_size')
        if self.train and self.gt_size is None:
            raise KeyError(f'{name}.gt_size: the training crop size is required')
        if self.gt_size is not None and (isinstance(self.gt_size, bool) or not isinstance(self.gt_size, int)
                                         or self.gt_size < 1):
            raise ValueError(f'{name}.gt_size: expected a whole number of pixels >= 1, got {self.gt_size!r}')
        self.seed = int(opt.get('seed', 0))
        self.crop_multiple = int(opt.get('center_crop_multiple') or 1)
        self.positive_crop = bool(opt.get('positive_crop', False))
        self.flips = (bool(opt.get('use_hflip', True)), bool(opt.get('use_vflip', False)),
                      bool(opt.get('use_rot', False)))
        sources = opt.get('sources')
        if not sources:
            raise KeyError(f'{name}.sources: list at least one source (task, layout, dataroot)')
        self.sources = [_build_source(dict(s), f'{name}.sources[{i}]', self.backend, self.train)
                        for i, s in enumerate(sources)]
        fold, folds = opt.get('fold'), int(opt.get('num_folds', 2))
        self.num_folds = folds
        self.medium_root = opt.get('medium_root') if self.train else None
        if self.medium_root is not None and not os.path.isdir(str(self.medium_root)):
            raise FileNotFoundError(f'{name}.medium_root: {self.medium_root!r} is not a folder; render the '
                                    'medium tier with render_medium (its medium_root), or set medium_root: ~')
        if self.medium_root is not None and all(s.synthetic for s in self.sources):
            logger.warning(f'{name}.medium_root is not read: every source synthesises its degradation, whose '
                           'medium tier is computed in each step (it is rendered for pairs read from files)')
        # the proxies rendered ahead of training: one folder per proxy under proxy_root
        root = opt.get('proxy_root') if self.train else None
        if root is not None and not os.path.isdir(str(root)):
            raise FileNotFoundError(f'{name}.proxy_root: {root!r} is not a folder; render the proxies with '
                                    'render_medium (its proxy_root), or set proxy_root: ~ to compute them')
        self.proxy_renders = {} if root is None else {
            p: os.path.join(str(root), p) for p in sorted(os.listdir(str(root)))
            if os.path.isdir(os.path.join(str(root), p))}
        # a proxy renders the tasks it handles, one folder each: looked up once, not per sample
        self.proxy_tasks = {p: {t for t in TASKS if os.path.isdir(os.path.join(folder, t))}
                            for p, folder in self.proxy_renders.items()}
        if fold is not None:
            if not 0 <= int(fold) < folds:
                raise ValueError(f'{name}.fold must be in 0..{folds - 1}, got {fold!r}')
            for i, src in enumerate(self.sources):
                src.items = [it for it in src.items if fold_of(src.task, it.scene, folds) == int(fold)]
                if not src.items:
                    raise ValueError(f'{name}.sources[{i}]: no pair falls in fold {fold}')
        sizes = [len(s.items) * s.repeat for s in self.sources]
        self._starts = np.cumsum([0] + sizes).tolist()
        self._client = None
        self.name = name
        self.bad_samples = opt.get('bad_samples', 'skip' if self.train else 'raise')
        if self.bad_samples not in ('skip', 'raise'):
            raise ValueError(f'{name}.bad_samples must be skip or raise, got {self.bad_samples!r}')
        self._said = Once()  # each bad file and the upscaling reported once per run, all workers
        if self.train:
            self._check_usable()
            self._check_renders()
            logger.info(f'{name}: {len(self)} samples per pass; per task: '
                        + ', '.join(f'{t} {n}' for t, n in self.task_counts().items()) + '; per source: '
                        + ', '.join(f'[{i}] {s.task} {len(s.items)} x {s.repeat}'
                                    for i, s in enumerate(self.sources)))

    def _check_usable(self) -> None:
        """Fail at start when no clean image of the dataset can be read."""
        errors = []
        for src in self.sources:
            for item in src.items:
                try:
                    self._read(item.gt, src.gt_db)
                    self._client = None  # opened again in each worker
                    return
                except OSError as exc:
                    errors.append(str(exc))
        self._client = None
        raise ValueError(f'{self.name}: none of the {len(errors)} clean images can be read, e.g. '
                         + '; '.join(errors[:3]))

    def _check_renders(self) -> None:
        """Fail at start when a pair has no stage-1b render where one is expected: a
        missing render would otherwise make the pair unreadable, and ``bad_samples: skip``
        would silently train on other samples of its task instead."""
        places = []
        if self.medium_root is not None:
            places.append(('medium_root', str(self.medium_root), None))
        places += [(f'proxy_root ({proxy})', folder, proxy) for proxy, folder in self.proxy_renders.items()]
        for option, root, proxy in places:
            needed = missing = 0
            example = None
            for src in self.sources:
                # a proxy renders the tasks it handles (a folder per task); the medium tier all
                if proxy is not None and src.task not in self.proxy_tasks[proxy]:
                    continue
                for item in src.items:
                    if item.lq is None:  # synthesised: computed in the step, never rendered
                        continue
                    needed += 1
                    path = os.path.join(root, src.task, item.name + '.png')
                    if not os.path.isfile(path):
                        missing += 1
                        example = example or path
            if missing:
                raise FileNotFoundError(
                    f'{self.name}.{option}: {missing} of the {needed} pairs read from files have no '
                    f'stage-1b render (e.g. {example!r}); run python -m perceive_ir_arch.render_medium '
                    'with the same sources, or set it to ~ to compute them in every step')

    def __len__(self) -> int:
        return self._starts[-1]

    def task_indices(self, task: str) -> list[int]:
        """Every sample index of one task (repeats included)."""
        return [i for k, s in enumerate(self.sources) if s.task == task
                for i in range(self._starts[k], self._starts[k + 1])]

    def task_counts(self) -> dict[str, int]:
        """Samples per task in one pass (repeats included)."""
        counts: dict[str, int] = {}
        for s in self.sources:
            counts[s.task] = counts.get(s.task, 0) + len(s.items) * s.repeat
        return counts

    # -- reading ----------------------------------------------------------------------
    def _read(self, ref: str, db: str | None) -> np.ndarray:
        if self._client is None:  # per worker: LMDB handles must not cross a fork
            from basicsr.utils import FileClient
            if self.backend == 'lmdb':
                dbs = sorted({d for s in self.sources for d in (s.lq_db, s.gt_db) if d})
                self._client = FileClient('lmdb', db_paths=dbs, client_keys=dbs, **self.io_kwargs)
            else:
                self._client = FileClient('disk')
        try:
            content = self._client.get(ref, db) if db else self._client.get(ref)
        except Exception as exc:
            raise OSError(f'cannot read {ref!r}' + (f' from {db!r}' if db else '') + f': {exc}') from exc
        if content is None:
            raise OSError(f'key {ref!r} is not in {db!r}')
        return decode_image(bytes(content), f'{db}:{ref}' if db else ref)

    def _rng(self, src: _Source, item: _Item) -> np.random.Generator:
        if self.train:
            return np.random.default_rng(np.random.randint(0, 2 ** 31 - 1))
        return np.random.default_rng(
            [self.seed, _stable_hash(item.name), TASKS.index(src.task), int((item.level or 0) * 100)])

    # -- sample -----------------------------------------------------------------------
    def _locate(self, index: int) -> tuple[_Source, _Item]:
        k = bisect.bisect_right(self._starts, index) - 1
        src = self.sources[k]
        return src, src.items[(index - self._starts[k]) % len(src.items)]

    def sample_key(self, index: int) -> str:
        """'<task>/<name>' naming what sample ``index`` shows: the pair's relative name,
        plus the degradation for synthesised evaluation samples (``_denoise25``, ...)."""
        src, item = self._locate(index)
        if item.lq is None and not self.train:
            return f'{src.task}/{item.name}_{src.spec.tag(item.level)}'
        return f'{src.task}/{item.name}'

    def __getitem__(self, index: int) -> dict[str, Any]:
        if self.bad_samples == 'raise':
            return self._sample(index)
        task = self._locate(index)[0].task
        for _ in range(_REDRAWS):
            try:
                return self._sample(index)
            except (OSError, ValueError) as exc:
                message = str(exc)
                if self._said.first(message):  # once per file and run, whichever worker meets it
                    logger.warning(f'{self.name}: skipped a sample: {message} '
                                   '(bad_samples: raise makes this an error)')
            # a random sample of the same task: the next index would serve one neighbour
            # for every unreadable file, and the task mix would shift
            index = self._draw(task)
        raise RuntimeError(f'{self.name}: {_REDRAWS} {task} samples in a row could not be read '
                           '(see the warnings above)')

    def _draw(self, task: str) -> int:
        """A uniformly drawn sample index of ``task`` (the global RNG: seeded per sample
        by the plugin's runner, per worker by BasicSR's)."""
        ranges = [(self._starts[k], self._starts[k + 1]) for k, s in enumerate(self.sources) if s.task == task]
        pick = np.random.randint(0, sum(b - a for a, b in ranges))
        for a, b in ranges:
            if pick < b - a:
                return a + pick
            pick -= b - a
        raise AssertionError('unreachable')

    def _sample(self, index: int) -> dict[str, Any]:
        src, item = self._locate(index)
        rng = self._rng(src, item)
        gt = self._read(item.gt, src.gt_db)
        gt_path = f'{src.gt_db}/{item.gt}' if src.gt_db else item.gt
        if self.train:  # an image under the crop is upscaled, before any noise is added
            self._note_upscale(gt, gt_path)
            gt = fit_to_crop(gt, int(self.gt_size))
        if item.lq is None:
            level = item.level
            if level is None and src.levels:
                level = float(rng.choice(src.levels))
            lq = src.spec.degrade(gt, rng, level)
            stem, ext = os.path.splitext(gt_path)
            lq_path = f'{stem}_{src.spec.tag(level)}{ext if ext else ".png"}'
        else:
            lq = self._read(item.lq, src.lq_db)
            lq_path = f'{src.lq_db}/{item.lq}' if src.lq_db else item.lq
            if self.train:
                lq = fit_to_crop(lq, int(self.gt_size))
            if lq.shape != gt.shape:
                raise ValueError(f'degraded {lq_path!r} is {lq.shape[1]}x{lq.shape[0]} but clean '
                                 f'{gt_path!r} is {gt.shape[1]}x{gt.shape[0]}; pairs must match')
        sample = {'lq_path': lq_path, 'gt_path': gt_path, 'task': src.task,
                  'task_id': TASKS.index(src.task),
                  # the synthesis level (denoise: sigma); 0 for a degradation read from a file
                  'level': float(level) if item.lq is None and level is not None else 0.0}
        medium = None
        if self.train:  # which stage-1 fold the pair is in: the cross-fitted medium tier
            sample['fold'] = fold_of(src.task, item.scene, self.num_folds)
        renders: dict[str, np.ndarray] = {}
        if self.medium_root is not None:
            # the stage-1b render of this pair; a synthesised degradation is new at every
            # draw, so its medium image is computed by the proxy instead
            if item.lq is not None:
                medium = self._render(str(self.medium_root), 'medium_root', src, item, gt.shape)
                renders['medium'] = medium
            sample['has_medium'] = medium is not None
        for proxy, folder in self.proxy_renders.items():
            # a proxy's render exists for the pairs of the tasks it handles (its task folder)
            found = item.lq is not None and src.task in self.proxy_tasks[proxy]
            if found:
                renders[f'render_{proxy}'] = self._render(folder, f'proxy_root ({proxy})', src, item, gt.shape)
            sample[f'has_render_{proxy}'] = found
        if self.train:
            # name a real file in errors (a synthesised lq path does not exist)
            arrays = self._crop(rng, lq, gt, lq_path if item.lq is not None else gt_path, renders)
            arrays = self._flip(rng, arrays)
        else:
            arrays = {'lq': _center_crop(lq, self.crop_multiple), 'gt': _center_crop(gt, self.crop_multiple)}
        for key, arr in arrays.items():
            sample[key] = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
        if self.medium_root is not None and 'medium' not in sample:
            sample['medium'] = torch.zeros_like(sample['gt'])  # batches need one shape
        for proxy in self.proxy_renders:
            sample.setdefault(f'render_{proxy}', torch.zeros_like(sample['gt']))
        return sample

    def _note_upscale(self, gt: np.ndarray, path: str) -> None:
        h, w = gt.shape[:2]
        if min(h, w) < int(self.gt_size) and self._said.first('upscaled crops'):
            logger.warning(f'{self.name}.gt_size {self.gt_size} is larger than {path!r} ({w}x{h}): crops of '
                           'images under gt_size are upscaled (bicubic, as the authors\' release does); said '
                           'once for the whole set')

    def _render(self, root: str, option: str, src: _Source, item: _Item, shape: tuple[int, ...]) -> np.ndarray:
        """The render ``<root>/<task>/<name>.png`` of a pair, at the (upscaled) pair's size."""
        path = os.path.join(root, src.task, item.name + '.png')
        try:
            with open(path, 'rb') as f:
                image = decode_image(f.read(), path)
        except FileNotFoundError:
            raise OSError(f'{path!r}: no stage-1b render of this pair; run render_medium with '
                          f'the same sources ({option})') from None
        image = fit_to_crop(image, int(self.gt_size))
        if image.shape != shape:
            raise ValueError(f'render {path!r} is {image.shape[1]}x{image.shape[0]} but its pair '
                             f'is {shape[1]}x{shape[0]}; render it again')
        return image

    def has_degraded_file(self, index: int) -> bool:
        """Whether sample ``index`` reads its degraded image from a file (not synthesised)."""
        return self._locate(index)[1].lq is not None

    def _crop(self, rng: np.random.Generator, lq: np.ndarray, gt: np.ndarray,
              lq_path: str, renders: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        size = int(self.gt_size)
        h, w = gt.shape[:2]
        top, left = random_window(rng, h, w, size, lq_path)
        out = {'lq': lq[top:top + size, left:left + size], 'gt': gt[top:top + size, left:left + size]}
        for key, image in (renders or {}).items():  # the same window as its pair
            out[key] = image[top:top + size, left:left + size]
        if self.positive_crop:  # same degraded image (same noise realisation), elsewhere
            top, left = random_window(rng, h, w, size, lq_path)
            out['lq_pos'] = lq[top:top + size, left:left + size]
        return out

    def _flip(self, rng: np.random.Generator, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        hflip, vflip, rot = self.flips
        do_h, do_v, do_t = (hflip and rng.random() < 0.5, vflip and rng.random() < 0.5,
                            rot and rng.random() < 0.5)
        for key, a in arrays.items():
            if do_h:
                a = a[:, ::-1]
            if do_v:
                a = a[::-1]
            if do_t:  # transpose: with the flips it gives all 8 dihedral transforms
                a = a.transpose(1, 0, 2)
            arrays[key] = a
        return arrays

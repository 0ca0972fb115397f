"""MixedDegradationDataset: all-in-one training and test data, one task label per sample."""
from __future__ import annotations

import bisect
import logging
import os
import zlib
from typing import Any

import numpy as np
import torch
from torch.utils import data

from ..registry import register_dataset
from ..tasks import TASKS
from ..utils.once import Once
from ._crop import fit_to_crop, random_window
from .folds import fold_of
from .options import check_dataset_keys
from .reader import ImageReader
from .renders import Renders
from .sources import Item, Source, build_source

__all__ = ['MixedDegradationDataset']

logger = logging.getLogger('basicsr.perceive_ir')
_REDRAWS = 100  # unreadable samples in a row before a task is given up

def _stable_hash(text: str) -> int:
    return zlib.crc32(text.encode('utf-8'))


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
        self.sources = [build_source(dict(s), f'{name}.sources[{i}]', self.backend, self.train)
                        for i, s in enumerate(sources)]
        fold, folds = opt.get('fold'), int(opt.get('num_folds', 2))
        self.num_folds = folds
        if fold is not None:
            if not 0 <= int(fold) < folds:
                raise ValueError(f'{name}.fold must be in 0..{folds - 1}, got {fold!r}')
            for i, src in enumerate(self.sources):
                src.items = [it for it in src.items if fold_of(src.task, it.scene, folds) == int(fold)]
                if not src.items:
                    raise ValueError(f'{name}.sources[{i}]: no pair falls in fold {fold}')
        sizes = [len(s.items) * s.repeat for s in self.sources]
        self._starts = np.cumsum([0] + sizes).tolist()
        self.reader = ImageReader(self.backend, [d for s in self.sources for d in (s.lq_db, s.gt_db) if d],
                                  **self.io_kwargs)
        self.name = name
        self.bad_samples = opt.get('bad_samples', 'skip' if self.train else 'raise')
        if self.bad_samples not in ('skip', 'raise'):
            raise ValueError(f'{name}.bad_samples must be skip or raise, got {self.bad_samples!r}')
        # the stage-1b renders read beside the pairs (checked now: a missing one stops the run)
        self.renders = (Renders(name, opt.get('medium_root'), opt.get('proxy_root'), self.sources)
                        if self.train else Renders(name, None, None, ()))
        self._said = Once()  # each bad file and the upscaling reported once per run, all workers
        if self.train:
            self._check_usable()
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
                    self.reader.read(item.gt, src.gt_db)
                    self.reader.close()  # opened again in each worker
                    return
                except OSError as exc:
                    errors.append(str(exc))
        self.reader.close()
        raise ValueError(f'{self.name}: none of the {len(errors)} clean images can be read, e.g. '
                         + '; '.join(errors[:3]))

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
    def _rng(self, src: Source, item: Item) -> np.random.Generator:
        if self.train:
            return np.random.default_rng(np.random.randint(0, 2 ** 31 - 1))
        return np.random.default_rng(
            [self.seed, _stable_hash(item.name), TASKS.index(src.task), int((item.level or 0) * 100)])

    # -- sample -----------------------------------------------------------------------
    def _locate(self, index: int) -> tuple[Source, Item]:
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
        gt = self.reader.read(item.gt, src.gt_db)
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
            lq = self.reader.read(item.lq, src.lq_db)
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
        medium_root = self.renders.medium_root
        if medium_root is not None:
            # the stage-1b render of this pair; a synthesised degradation is new at every
            # draw, so its medium image is computed by the proxy instead
            if item.lq is not None:
                medium = Renders.read(medium_root, 'medium_root', src, item, gt.shape, self.gt_size)
                renders['medium'] = medium
            sample['has_medium'] = medium is not None
        for proxy, folder in self.renders.proxies.items():
            # a proxy's render exists for the pairs of the tasks it handles (its task folder)
            found = item.lq is not None and self.renders.rendered(proxy, src.task)
            if found:
                renders[f'render_{proxy}'] = Renders.read(folder, f'proxy_root ({proxy})', src, item, gt.shape,
                                                          self.gt_size)
            sample[f'has_render_{proxy}'] = found
        if self.train:
            # name a real file in errors (a synthesised lq path does not exist)
            arrays = self._crop(rng, lq, gt, lq_path if item.lq is not None else gt_path, renders)
            arrays = self._flip(rng, arrays)
        else:
            arrays = {'lq': _center_crop(lq, self.crop_multiple), 'gt': _center_crop(gt, self.crop_multiple)}
        for key, arr in arrays.items():
            sample[key] = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
        if medium_root is not None and 'medium' not in sample:
            sample['medium'] = torch.zeros_like(sample['gt'])  # batches need one shape
        for proxy in self.renders.proxies:
            sample.setdefault(f'render_{proxy}', torch.zeros_like(sample['gt']))
        return sample

    def _note_upscale(self, gt: np.ndarray, path: str) -> None:
        h, w = gt.shape[:2]
        if min(h, w) < int(self.gt_size) and self._said.first('upscaled crops'):
            logger.warning(f'{self.name}.gt_size {self.gt_size} is larger than {path!r} ({w}x{h}): crops of '
                           'images under gt_size are upscaled (bicubic, as the authors\' release does); said '
                           'once for the whole set')

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

"""Per-sample seeds and resumable epochs (perceive_ir_arch.data.sampling)."""
from __future__ import annotations

import random

import numpy as np
import torch
from basicsr.data.data_sampler import EnlargedSampler
from torch.utils.data import DataLoader

from perceive_ir_arch.data.sampling import ResumableSampler, SeededDraws
from tests.test_dataset import make


def _dataset(clean_dir):
    sources = [{'task': t, 'layout': 'synthetic', 'dataroot': clean_dir, 'repeat': 2}
               for t in ('denoise', 'derain', 'deblur')]
    sources[0]['sigmas'] = [15, 25, 50]  # a source's key (at the dataset level it was ignored)
    return make(sources, gt_size=16, use_hflip=True)


def _batches(dataset, sampler, workers, epoch=0):
    sampler.set_epoch(epoch)
    loader = DataLoader(SeededDraws(dataset), batch_size=3, sampler=sampler, num_workers=workers,
                        drop_last=True)
    return [(b['lq_path'], b['lq']) for b in loader]


def _same(a, b):
    assert len(a) == len(b)
    for (pa, xa), (pb, xb) in zip(a, b):
        assert pa == pb
        assert torch.equal(xa, xb)


def test_draws_do_not_depend_on_the_number_of_workers(clean_dir):
    data = _dataset(clean_dir)
    sampler = lambda: ResumableSampler(EnlargedSampler(data, 1, 0, 1), seed=5)  # noqa: E731
    alone = _batches(data, sampler(), workers=0)
    _same(alone, _batches(data, sampler(), workers=2))
    # and they are random draws: another epoch or another seed draws differently
    assert not torch.equal(alone[0][1], _batches(data, sampler(), workers=0, epoch=1)[0][1])
    other = ResumableSampler(EnlargedSampler(data, 1, 0, 1), seed=6)
    assert not all(torch.equal(x, y) for (_, x), (_, y) in zip(alone, _batches(data, other, 0)))


def test_a_resumed_epoch_continues_where_it_stopped(clean_dir):
    data = _dataset(clean_dir)
    full = _batches(data, ResumableSampler(EnlargedSampler(data, 1, 0, 1), seed=1), 0, epoch=2)
    resumed = ResumableSampler(EnlargedSampler(data, 1, 0, 1), seed=1, skip_epoch=2, skip=2 * 3)
    _same(_batches(data, resumed, 0, epoch=2), full[2:])
    # only that epoch is shortened
    _same(_batches(data, resumed, 0, epoch=3),
          _batches(data, ResumableSampler(EnlargedSampler(data, 1, 0, 1), seed=1), 0, epoch=3))


def test_the_callers_generators_are_left_alone(clean_dir):
    wrapped = SeededDraws(_dataset(clean_dir))
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    expected = random.random(), np.random.rand(), torch.rand(1)
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    wrapped[(0, (0, 0, 0, 0))]
    assert (random.random(), np.random.rand()) == expected[:2] and torch.equal(torch.rand(1), expected[2])
    # a plain index is the wrapped dataset's own sample, and attributes pass through
    assert wrapped[1]['gt_path'] == wrapped.dataset[1]['gt_path'] and wrapped.opt is wrapped.dataset.opt

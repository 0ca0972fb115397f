"""Training draws that do not depend on workers or on interruptions.

BasicSR seeds each DataLoader worker once, so a sample's random crop, flips and noise
depend on which worker drew it, and a resumed run starts its epoch from the beginning.
Here every draw gets its own seed, (manual_seed, epoch, rank, position in the epoch), and
a resumed run skips the samples its epoch had already used: the batches after
``--auto_resume`` are the batches the uninterrupted run saw.  Used by
``python -m perceive_ir_arch.train`` for any training dataset.
"""
from __future__ import annotations

import random
from typing import Any, Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

__all__ = ['ResumableSampler', 'SeededDraws']


class ResumableSampler(Sampler):
    """Wraps an epoch-aware sampler (BasicSR's ``EnlargedSampler``): yields
    ``(index, draw_seed)`` for ``SeededDraws``, and in epoch ``skip_epoch`` leaves out the
    first ``skip`` samples (what the interrupted run had consumed)."""

    def __init__(self, sampler: Sampler, seed: int, rank: int = 0, skip_epoch: int = 0,
                 skip: int = 0) -> None:
        self.sampler, self.seed, self.rank = sampler, int(seed), int(rank)
        self.skip_epoch, self.skip = skip_epoch, int(skip)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[tuple[int, tuple[int, int, int, int]]]:
        skip = self.skip if self.epoch == self.skip_epoch else 0
        for position, index in enumerate(self.sampler):
            if position >= skip:
                yield int(index), (self.seed, self.epoch, self.rank, position)

    def __len__(self) -> int:
        return len(self.sampler)


class SeededDraws(Dataset):
    """A dataset whose ``[(index, draw_seed)]`` seeds Python's, NumPy's and torch's global
    generators from ``draw_seed`` for that one sample (the caller's generator states are
    restored after), so any dataset that draws from them, BasicSR's included, draws the same
    in every worker layout.  A plain ``[index]`` is passed through unchanged."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str) -> Any:  # the wrapped dataset's attributes (opt, ...)
        if name == 'dataset':
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            return self.dataset[key]
        index, draw_seed = key
        words = np.random.SeedSequence(list(draw_seed)).generate_state(3)
        states = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
        random.seed(int(words[0]))
        np.random.seed(int(words[1]))
        torch.default_generator.manual_seed(int(words[2]))  # the CPU one only, as restored
        try:
            return self.dataset[index]
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.random.set_rng_state(states[2])

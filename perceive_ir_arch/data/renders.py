"""The stage-1b renders a training set reads beside its pairs: the medium tier
(``medium_root/<task>/<name>.png``) and each L_dpl proxy's (``proxy_root/<proxy>/<task>/...``)."""
from __future__ import annotations

import logging
import os
from typing import Iterable

import numpy as np

from ..tasks import TASKS
from ..utils.image_io import decode_image
from ._crop import fit_to_crop
from .sources import Item, Source

__all__ = ['Renders']

logger = logging.getLogger('basicsr.perceive_ir')


class Renders:
    """Where a training set's renders are, checked when the set is built: every pair read
    from a file must have its render (a missing one would make the pair unreadable, and
    ``bad_samples: skip`` would silently train on other samples of its task instead)."""

    def __init__(self, name: str, medium_root: str | None, proxy_root: str | None,
                 sources: Iterable[Source]) -> None:
        self.name = name
        sources = list(sources)
        if medium_root is not None and not os.path.isdir(str(medium_root)):
            raise FileNotFoundError(f'{name}.medium_root: {medium_root!r} is not a folder; render the '
                                    'medium tier with render_medium (its medium_root), or set medium_root: ~')
        if medium_root is not None and all(s.synthetic for s in sources):
            logger.warning(f'{name}.medium_root is not read: every source synthesises its degradation, whose '
                           'medium tier is computed in each step (it is rendered for pairs read from files)')
        if proxy_root is not None and not os.path.isdir(str(proxy_root)):
            raise FileNotFoundError(f'{name}.proxy_root: {proxy_root!r} is not a folder; render the proxies with '
                                    'render_medium (its proxy_root), or set proxy_root: ~ to compute them')
        self.medium_root = None if medium_root is None else str(medium_root)
        self.proxies = {} if proxy_root is None else {
            p: os.path.join(str(proxy_root), p) for p in sorted(os.listdir(str(proxy_root)))
            if os.path.isdir(os.path.join(str(proxy_root), p))}
        # a proxy renders the tasks it handles, one folder each: looked up once, not per sample
        self._tasks = {p: {t for t in TASKS if os.path.isdir(os.path.join(folder, t))}
                       for p, folder in self.proxies.items()}
        self._check(sources)

    def rendered(self, proxy: str, task: str) -> bool:
        """Whether ``proxy`` rendered the pairs of ``task`` (the tasks it handles)."""
        return task in self._tasks[proxy]

    def _check(self, sources: list[Source]) -> None:
        places = [('medium_root', self.medium_root, None)] if self.medium_root is not None else []
        places += [(f'proxy_root ({proxy})', folder, proxy) for proxy, folder in self.proxies.items()]
        for option, root, proxy in places:
            needed = missing = 0
            example = None
            for src in sources:
                if proxy is not None and not self.rendered(proxy, src.task):
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

    @staticmethod
    def read(root: str, option: str, src: Source, item: Item, shape: tuple[int, ...], gt_size: int) -> np.ndarray:
        """The render ``<root>/<task>/<name>.png`` of a pair, at the (upscaled) pair's size."""
        path = os.path.join(root, src.task, item.name + '.png')
        try:
            with open(path, 'rb') as f:
                image = decode_image(f.read(), path)
        except FileNotFoundError:
            raise OSError(f'{path!r}: no stage-1b render of this pair; run render_medium with '
                          f'the same sources ({option})') from None
        image = fit_to_crop(image, int(gt_size))
        if image.shape != shape:
            raise ValueError(f'render {path!r} is {image.shape[1]}x{image.shape[0]} but its pair '
                             f'is {shape[1]}x{shape[0]}; render it again')
        return image

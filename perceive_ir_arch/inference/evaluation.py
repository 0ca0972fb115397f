"""One evaluation for several restorers: the same benchmark folders, one metric, one table.

    results = evaluate(['promptir_allinone', 'adair_3task'], 'datasets/test', benchmarks='3task')
    print(results.markdown())

Each model restores every benchmark of a task it was trained for, under its publisher's
protocol (``protocol='publisher'``: their crops, tiling and noise, ``zoo/protocols.py``) or
one protocol for all (``'common'``).  The metric is one definition for every row: PSNR and
SSIM on RGB in [0, 1] (the restored image clamped, not rounded; SSIM with scikit-image's
defaults, ``metrics/ssim_skimage.py``), per image, averaged over the benchmark, as the
peers' evaluation code computes them.  Denoising inputs are drawn once per image and noise
kind and shared by every model that uses that kind.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import cv2
import numpy as np
import torch

from ..data import MixedDegradationDataset
from ..metrics.ssim_skimage import ssim_uniform
from ..utils.files import atomic_write_text
from ..zoo import BENCHMARKS, COMMON, MODELS, SUITES, Benchmark, Protocol, benchmark_named, model_entry
from ..zoo.protocols import WHOLE_IMAGE
from .restorer import create_restorer

__all__ = ['evaluate', 'Evaluation', 'Row', 'psnr', 'sequential_noise', 'centre_crop', 'benchmarks_of']


def psnr(restored: np.ndarray, target: np.ndarray) -> float:
    """PSNR (dB) of float RGB images in [0, 1] (the restored one clamped)."""
    mse = float(np.mean((np.clip(restored, 0, 1).astype(np.float64) - target.astype(np.float64)) ** 2))
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def centre_crop(img: np.ndarray, multiple: int) -> np.ndarray:
    """The peers' test crop: the centre, each side cut down to a multiple."""
    h, w = img.shape[:2]
    dh, dw = h % multiple, w % multiple
    return img[dh // 2:h - dh + dh // 2, dw // 2:w - dw + dw // 2]


def sequential_noise(cleans: Sequence[np.ndarray], sigmas: Sequence[float] = (15, 25, 50),
                     seed: int = 0) -> dict[float, list[np.ndarray]]:
    """The peers' test noise: one ``np.random.seed(seed)`` stream over the images in order,
    sigma 15, then 25, then 50 (their scripts test the three in that order in one run),
    ``randn * sigma`` added to the 8-bit image and truncated back to 8 bits."""
    rng = np.random.RandomState(seed)
    return {float(s): [np.clip(c.astype(np.float64) + rng.randn(*c.shape) * s, 0, 255).astype(np.uint8)
                       for c in cleans] for s in sigmas}


@dataclass
class _Pairs:
    stems: list[str]
    lq: list[np.ndarray]   # uint8 RGB
    gt: list[np.ndarray]


class _Images:
    """Every benchmark's images, read once, cropped and degraded once per (crop, noise)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._raw: dict[str, _Pairs] = {}
        self._made: dict[tuple[str, int, str], _Pairs] = {}

    def raw(self, bench: Benchmark) -> _Pairs:
        if bench.name not in self._raw:
            dataset = MixedDegradationDataset({'name': bench.name, 'phase': 'val', 'io_backend': {'type': 'disk'},
                                               'sources': [bench.source(self.root)]})
            stems, lq, gt = [], [], []
            for i in range(len(dataset)):
                sample = dataset[i]
                stems.append(os.path.splitext(os.path.basename(sample['gt_path']))[0] if bench.sigma
                             else os.path.splitext(os.path.basename(sample['lq_path']))[0])
                lq.append(_uint8(sample['lq']))
                gt.append(_uint8(sample['gt']))
            self._raw[bench.name] = _Pairs(stems, lq, gt)
        return self._raw[bench.name]

    def pairs(self, bench: Benchmark, crop: int, noise: str) -> _Pairs:
        noise = noise if bench.sigma is not None else 'per_image'
        key = (bench.name, crop, noise)
        if key not in self._made:
            raw = self.raw(bench)
            gt = [centre_crop(g, crop) for g in raw.gt]
            if noise == 'sequential':
                order = sorted(range(len(raw.stems)), key=lambda i: raw.stems[i])
                noisy = sequential_noise([gt[i] for i in order])[float(bench.sigma)]
                lq = [None] * len(gt)
                for i, img in zip(order, noisy):
                    lq[i] = img
            else:
                lq = [centre_crop(x, crop) for x in raw.lq]
            self._made[key] = _Pairs(raw.stems, lq, gt)
        return self._made[key]


def _uint8(t: torch.Tensor) -> np.ndarray:
    return (t.permute(1, 2, 0).numpy() * 255.0).round().clip(0, 255).astype(np.uint8)


@dataclass
class Row:
    model: str
    benchmark: str
    images: int
    psnr: float
    ssim: float
    paper: tuple[float, float | None] | None


@dataclass
class Evaluation:
    """The table of an evaluation: one row per (model, benchmark), with what each used."""
    rows: list[Row]
    models: list[str]
    benchmarks: list[str]
    protocols: dict[str, Protocol]
    skipped: dict[str, list[str]] = field(default_factory=dict)  # model -> benchmarks of other tasks
    notes: list[str] = field(default_factory=list)

    def cell(self, model: str, bench: str) -> Row | None:
        return next((r for r in self.rows if r.model == model and r.benchmark == bench), None)

    def average(self, model: str) -> tuple[float, float, tuple[float, float | None] | None] | None:
        """(PSNR, SSIM, the paper's average) over the benchmarks the model ran."""
        rows = [r for r in self.rows if r.model == model]
        if not rows:
            return None
        paper = None
        entry = MODELS.get(model)
        if entry is not None and entry.published is not None and 'average' in entry.published.results:
            paper = entry.published.results['average'] if len(rows) == len(self.benchmarks) else None
        elif all(r.paper is not None for r in rows):
            ssims = [r.paper[1] for r in rows]
            paper = (float(np.mean([r.paper[0] for r in rows])),
                     None if any(s is None for s in ssims) else float(np.mean(ssims)))
        return float(np.mean([r.psnr for r in rows])), float(np.mean([r.ssim for r in rows])), paper

    def markdown(self) -> str:
        head = ['model'] + self.benchmarks + ['average']
        lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
        for model in self.models:
            cells = [model]
            for bench in self.benchmarks:
                row = self.cell(model, bench)
                cells.append('—' if row is None else _shown(row.psnr, row.ssim, row.paper))
            avg = self.average(model)
            cells.append('—' if avg is None else _shown(*avg))
            lines.append('| ' + ' | '.join(cells) + ' |')
        return '\n'.join(lines) + '\n\n' + self.footer()

    def footer(self) -> str:
        out = ['Each cell: PSNR (dB) / SSIM on RGB in [0, 1] (the restored image clamped), per image, averaged '
               '(SSIM with scikit-image\'s defaults); in brackets the publisher\'s number and the difference '
               '(ours minus theirs). — : a task the model was not trained for, or not run.']
        for model in self.models:
            p = self.protocols[model]
            entry = MODELS.get(model)
            source = f'; published: {entry.published.source}' if entry is not None and entry.published else ''
            out.append(f'- {model}: {p.description}{source}')
        out += [f'- {note}' for note in self.notes]
        return '\n'.join(out)

    def csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(['model', 'benchmark', 'images', 'psnr', 'ssim', 'paper_psnr', 'paper_ssim', 'delta_psnr',
                    'protocol'])
        for r in self.rows:
            paper = r.paper or (None, None)
            delta = '' if paper[0] is None else f'{r.psnr - paper[0]:.4f}'
            w.writerow([r.model, r.benchmark, r.images, f'{r.psnr:.4f}', f'{r.ssim:.4f}',
                        '' if paper[0] is None else paper[0], '' if paper[1] is None else paper[1], delta,
                        self.protocols[r.model].name])
        return buf.getvalue()

    def json(self) -> str:
        return json.dumps({'benchmarks': self.benchmarks,
                           'protocols': {m: self.protocols[m].description for m in self.models},
                           'rows': [vars(r) for r in self.rows],
                           'averages': {m: self.average(m) for m in self.models},
                           'notes': self.notes}, indent=1) + '\n'

    def write(self, folder: str) -> list[str]:
        written = []
        for name, text in (('evaluation.md', self.markdown() + '\n'), ('evaluation.csv', self.csv()),
                           ('evaluation.json', self.json())):
            atomic_write_text(os.path.join(folder, name), text)
            written.append(os.path.join(folder, name))
        return written


def _shown(p: float, s: float, paper: tuple[float, float | None] | None) -> str:
    text = f'{p:.2f} / {s:.4f}'
    if paper is not None:
        text += f' ({paper[0]:.2f}, {p - paper[0]:+.2f})'
    return text


def benchmarks_of(root: str, wanted: Iterable[str] | str | None) -> list[Benchmark]:
    """The benchmarks asked for (names or a suite: 3task, 5task), else every one found under
    ``root``; a benchmark asked for whose folder is missing is named."""
    if wanted is None:
        found = [b for b in BENCHMARKS.values() if os.path.isdir(os.path.join(root, b.folder))]
        if not found:
            raise FileNotFoundError(f'--data: no benchmark folder under {root!r} (looked for '
                                    + ', '.join(sorted({b.folder for b in BENCHMARKS.values()})) + ')')
        return found
    names: list[str] = []
    for item in [wanted] if isinstance(wanted, str) else wanted:
        names += list(SUITES[item]) if item in SUITES else [item]
    benches = [benchmark_named(n) for n in dict.fromkeys(names)]
    missing = [b for b in benches if not os.path.isdir(os.path.join(root, b.folder))]
    if missing:
        raise FileNotFoundError(f'--data: {", ".join(b.name for b in missing)} not found under {root!r} (expected '
                                + ', '.join(os.path.join(root, b.folder) for b in missing) + ')')
    return benches


def evaluate(models: Sequence[str], root: str, benchmarks: Iterable[str] | str | None = None,
             protocol: str = 'publisher', device: str | torch.device = 'auto', half: str | None = None,
             figure: Sequence[str] = (), progress: bool = False
             ) -> tuple[Evaluation, dict[str, dict[str, np.ndarray]]]:
    """Run ``models`` (names of the table, or weight files a restorer reads) on the
    benchmarks under ``root``; return the table and, for the images named in ``figure``
    (``<benchmark>/<stem>``), each model's input, output and target as its protocol cropped
    them; ``progress``: a bar over models and images."""
    from tqdm import tqdm

    if protocol not in ('publisher', 'common'):
        raise ValueError(f'--protocol: {protocol!r}; publisher (each row its publisher\'s) or common')
    benches = benchmarks_of(root, benchmarks)
    images = _Images(root)
    handled = {b.name: [m for m in models if m not in MODELS or b.task in MODELS[m].tasks] for b in benches}
    total = sum(len(images.raw(b).stems) * len(handled[b.name]) for b in benches)  # reads each image once
    bar = tqdm(total=total, desc='evaluating', unit='img', disable=not progress)
    rows, protocols, skipped = [], {}, {}
    shown: dict[str, dict[str, np.ndarray]] = {key: {} for key in figure}
    for name in models:
        entry = MODELS.get(name)
        if entry is None and not os.path.isfile(name):
            model_entry(name, '--models')  # "did you mean"
        used = (entry.protocol if entry is not None else WHOLE_IMAGE) if protocol == 'publisher' else COMMON
        protocols[name] = used
        # the release's bf16 on a GPU comes with its protocol (Restorer)
        restorer = create_restorer(name, device=device, half=half, protocol=used.restore)
        for bench in benches:
            if entry is not None and bench.task not in entry.tasks:
                skipped.setdefault(name, []).append(bench.name)
                continue
            restorer.set_task(bench.task)
            pairs = images.pairs(bench, used.crop_multiple, used.noise)
            scores = []
            for stem, lq, gt in zip(pairs.stems, pairs.lq, pairs.gt):
                out = restorer.restore(lq.astype(np.float32) / 255.0)
                target = gt.astype(np.float32) / 255.0
                scores.append((psnr(out, target), ssim_uniform(np.clip(out, 0, 1).astype(np.float64),
                                                               target.astype(np.float64))))
                key = f'{bench.name}/{stem}'
                if key in shown:  # each model's own crop of the pair: protocols may crop differently
                    shown[key][name] = (lq, (np.clip(out, 0, 1) * 255).round().astype(np.uint8), gt)
                bar.set_postfix_str(f'{name} {bench.name}', refresh=False)
                bar.update(1)
            paper = entry.published_for(bench.name) if entry is not None else None
            rows.append(Row(name, bench.name, len(scores), float(np.mean([s[0] for s in scores])),
                            float(np.mean([s[1] for s in scores])), paper))
    bar.close()
    notes = [f'benchmarks under {root}; noise seeded per image (this project) or by the peers\' stream as each '
             'protocol says, the same draw for every model that uses it']
    missing = [key for key, got in shown.items() if not got]
    if missing:
        notes.append(f'figure images not found: {", ".join(missing)}')
    return Evaluation(rows, list(models), [b.name for b in benches], protocols, skipped, notes), shown


def _centre(img: np.ndarray, h: int, w: int) -> np.ndarray:
    top, left = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return img[top:top + h, left:left + w]


def comparison_figure(images: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], models: Sequence[str],
                      box: tuple[int, int, int] | None, label_height: int = 18) -> np.ndarray:
    """Crops side by side (input, each model, target), each model's PSNR on the crop under
    it (BGR uint8).  ``images``: per model (input, output, target) as its protocol cropped
    them; all are centre-cropped to the smallest first, so the crops show one region (a
    multiple-of-16 crop is the centre of the whole image)."""
    names = [m for m in models if m in images]
    h = min(images[m][1].shape[0] for m in names)
    w = min(images[m][1].shape[1] for m in names)
    x, y, size = box if box is not None else ((w - min(h, w) // 2) // 2, (h - min(h, w) // 2) // 2, min(h, w) // 2)
    size = max(8, min(size, h - y, w - x))

    def cut(img: np.ndarray) -> np.ndarray:
        return _centre(img, h, w)[y:y + size, x:x + size]

    first = images[names[0]]
    panels = [('input', cut(first[0]))]
    for name in names:
        _, out, target = images[name]
        panels.append((f'{name}: {psnr(cut(out) / 255.0, cut(target) / 255.0):.2f} dB', cut(out)))
    panels.append(('target', cut(first[2])))
    row = []
    scale = max(1, 160 // size)
    for text, crop in panels:
        crop = cv2.resize(crop, (size * scale, size * scale), interpolation=cv2.INTER_NEAREST)
        label = np.full((label_height, crop.shape[1], 3), 255, np.uint8)
        cv2.putText(label, text[:max(4, crop.shape[1] // 7)], (2, label_height - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                    (0, 0, 0), 1, cv2.LINE_AA)
        row += [np.concatenate([crop[..., ::-1], label], axis=0), np.full((crop.shape[0] + label_height, 4, 3), 255,
                                                                          np.uint8)]
    return np.concatenate(row[:-1], axis=1)

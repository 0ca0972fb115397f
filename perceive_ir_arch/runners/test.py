"""Test with BasicSR's runner and print a per-task table.

    python -m perceive_ir_arch.test -opt options/test.yml

Each test dataset of the option file is one row: its PSNR / SSIM for the degraded input
and for the restored output (the metrics of ``val.metrics``), and the average over rows.
With ``val.published: 3task`` (or ``5task``) the paper's Perceive-IR numbers stand beside
ours for the rows whose dataset names match (``perceive_ir_arch.published``).
Results go to results/<name>/ under the current directory: metrics.csv, metrics.md,
the restored images (``val.save_img``) with their inputs beside them, and
comparison.png (input | restored | clean, one row per dataset).
"""
from __future__ import annotations

import csv
import io
import logging
import os
from typing import Any

import cv2
import numpy as np

import perceive_ir_arch  # noqa: F401  (registers the plugin's types)
from perceive_ir_arch.utils import atomic_imwrite, atomic_write_text

from ..published import PUBLISHED_RESULTS
from ..registry import check_types
from .options import parse_options_with_lists
from .swaps import model_swaps, swapped

__all__ = ['main', 'test_pipeline', 'format_table']


def _input_metrics(dataset, metrics_opt: dict) -> dict[str, float]:
    """The metrics of the degraded inputs against the clean images."""
    from basicsr.metrics import calculate_metric
    from basicsr.utils import tensor2img

    sums = {name: 0.0 for name in metrics_opt}
    for i in range(len(dataset)):
        sample = dataset[i]
        data = dict(img=tensor2img(sample['lq']), img2=tensor2img(sample['gt']))
        for name, mopt in metrics_opt.items():
            sums[name] += float(calculate_metric(data, mopt))
    return {name: s / max(len(dataset), 1) for name, s in sums.items()}


def format_table(rows: list[dict[str, Any]], metrics: list[str],
                 published: dict[str, tuple[float, float]] | None = None) -> str:
    """Markdown table: one row per dataset and the average of the rows; with
    ``published`` (dataset -> (PSNR, SSIM)) the paper's numbers in two more columns."""
    head = ['dataset', 'tasks', 'images'] + [f'input {m}' for m in metrics] + [f'restored {m}' for m in metrics]
    if published is not None:
        head += ['paper PSNR', 'paper SSIM']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]

    def fmt(m: str, v: float) -> str:
        return f'{v:.4f}' if 'ssim' in m.lower() else f'{v:.2f}'

    table_rows = rows + [_average(rows, metrics)]
    paper = _paper_cells(rows, published) if published is not None else None
    for i, r in enumerate(table_rows):
        cells = [r['dataset'], r['tasks'], str(r['images'])]
        cells += [fmt(m, r['input'][m]) for m in metrics] + [fmt(m, r['restored'][m]) for m in metrics]
        if paper is not None:
            cells += paper[i]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _paper_cells(rows: list[dict[str, Any]], published: dict[str, tuple[float, float]]) -> list[list[str]]:
    cells = [[f'{published[r["dataset"]][0]:.2f}', f'{published[r["dataset"]][1]:.3f}']
             if r['dataset'] in published else ['', ''] for r in rows]
    if rows and all(r['dataset'] in published for r in rows):
        psnr = sum(published[r['dataset']][0] for r in rows) / len(rows)
        ssim = sum(published[r['dataset']][1] for r in rows) / len(rows)
        cells.append([f'{psnr:.2f}', f'{ssim:.3f}'])
    else:
        cells.append(['', ''])
    return cells


def _average(rows: list[dict[str, Any]], metrics: list[str]) -> dict[str, Any]:
    return {'dataset': '**average**', 'tasks': '', 'images': sum(r['images'] for r in rows),
            'input': {m: float(np.mean([r['input'][m] for r in rows])) for m in metrics},
            'restored': {m: float(np.mean([r['restored'][m] for r in rows])) for m in metrics}}


def _csv(rows: list[dict[str, Any]], metrics: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(['dataset', 'tasks', 'images'] + [f'input_{m}' for m in metrics] + [f'restored_{m}' for m in metrics])
    for r in rows + [_average(rows, metrics)]:
        w.writerow([r['dataset'].strip('*'), r['tasks'], r['images']] + [f"{r['input'][m]:.6f}" for m in metrics]
                   + [f"{r['restored'][m]:.6f}" for m in metrics])
    return buf.getvalue()


def _label(img: np.ndarray, text: str) -> np.ndarray:
    out = img.copy()
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _comparison(panels: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """Rows of input | restored | clean (BGR uint8), padded to one width."""
    rows = []
    for name, lq, out, gt in panels:
        rows.append(np.concatenate([_label(lq, f'{name}: input'), _label(out, 'restored'),
                                    _label(gt, 'clean')], axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.concatenate(rows, axis=0)


def _published(key: str | None) -> dict[str, tuple[float, float]] | None:
    if key is None:
        return None
    if key not in PUBLISHED_RESULTS:
        raise KeyError(f'val.published: {key!r}; one of {sorted(PUBLISHED_RESULTS)} or ~')
    return PUBLISHED_RESULTS[key]


def test_pipeline(root_path: str) -> list[dict[str, Any]]:
    """BasicSR's test pipeline, plus the per-dataset table and the comparison image."""
    from basicsr.data import build_dataloader, build_dataset
    from basicsr.models import build_model
    from basicsr.utils import get_env_info, get_root_logger, get_time_str, make_exp_dirs, tensor2img
    from basicsr.utils.options import dict2str, parse_options

    opt, _ = parse_options_with_lists(parse_options)(root_path, is_train=False)
    check_types(opt)  # a mistyped registered name: "did you mean", before anything is built
    make_exp_dirs(opt)
    log_file = os.path.join(opt['path']['log'], f"test_{opt['name']}_{get_time_str()}.log")
    logger = get_root_logger(logger_name='basicsr', log_level=logging.INFO, log_file=log_file)
    logger.info(get_env_info())
    logger.info(dict2str(opt))
    metrics_opt = opt['val'].get('metrics') or {}
    if not metrics_opt:
        raise KeyError('val.metrics: list the metrics of the table (e.g. psnr, ssim)')
    save_img = bool(opt['val'].get('save_img'))
    suffix = opt['val'].get('suffix') or opt['name']

    model = build_model(opt)
    rows, panels = [], []
    for _, dataset_opt in opt['datasets'].items():  # file order, as the user wrote them
        dataset = build_dataset(dataset_opt)
        loader = build_dataloader(dataset, dataset_opt, num_gpu=opt['num_gpu'], dist=opt['dist'],
                                  sampler=None, seed=opt['manual_seed'])
        name = dataset_opt['name']
        logger.info(f'Testing {name} ({len(dataset)} images)...')
        model.validation(loader, current_iter=opt['name'], tb_logger=None, save_img=save_img)
        tasks = sorted(dataset.task_counts()) if hasattr(dataset, 'task_counts') else []
        rows.append({'dataset': name, 'tasks': '+'.join(tasks), 'images': len(dataset),
                     'input': _input_metrics(dataset, metrics_opt),
                     'restored': {m: float(model.metric_results[m]) for m in metrics_opt}})
        if save_img:
            folder = os.path.join(opt['path']['visualization'], name)
            for i in range(len(dataset)):
                sample = dataset[i]
                stem = os.path.splitext(os.path.basename(sample['lq_path']))[0]
                lq = tensor2img(sample['lq'])
                atomic_imwrite(os.path.join(folder, f'{stem}_input.png'), lq)
                if i == 0:
                    out = cv2.imread(os.path.join(folder, f'{stem}_{suffix}.png'))
                    panels.append((name, lq, out, tensor2img(sample['gt'])))

    metrics = list(metrics_opt)
    table = format_table(rows, metrics, _published(opt['val'].get('published')))
    results = opt['path']['results_root']
    atomic_write_text(os.path.join(results, 'metrics.md'), table + '\n')
    atomic_write_text(os.path.join(results, 'metrics.csv'), _csv(rows, metrics))
    if panels:
        atomic_imwrite(os.path.join(results, 'comparison.png'), _comparison(panels))
    logger.info(f'Per-dataset results ({results}):\n{table}')
    print(f'Saved to {results}/metrics.md, metrics.csv'
          + (', comparison.png' if panels else ''), flush=True)
    return rows


def main(root_path: str | None = None) -> list[dict[str, Any]]:
    with swapped(model_swaps()):
        return test_pipeline(os.path.abspath(root_path or os.getcwd()))

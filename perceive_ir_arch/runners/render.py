"""Stage 1b: render the medium quality tier, and the L_dpl proxies' outputs.

    python -m perceive_ir_arch.render_medium -opt options/render_medium.yml

Every training pair of fold f is restored by the medium restorer trained on the other
fold (docs/method.md 1.1), and written to ``<medium_root>/<task>/<name>.png``: the tier-1
("mediocre") images that ``QualityTierDataset`` reads beside the degraded and clean ones.
With ``proxies`` (or ``train_options``, the stage-2 file whose ``train.dpl_opt.proxies``
to take) and ``proxy_root``, every pair whose degradation is a file is also restored by
each proxy that handles its task, into ``<proxy_root>/<proxy name>/<task>/<name>.png``,
which ``MixedDegradationDataset`` (``proxy_root``) reads at the same crop as the pair: a
training step then runs the proxies only for synthesised noise, new at every draw (as do
the per-sigma denoisers, which are never rendered).
Resumable: images already there are skipped; each file is written to a temporary name
and renamed, so an interrupted run leaves no partial image.
"""
from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np
import torch

import perceive_ir_arch  # noqa: F401  (registers the plugin's types)
from perceive_ir_arch.utils import atomic_imwrite
from perceive_ir_arch.utils.device import select_device
from perceive_ir_arch.utils.yaml_file import read_yaml

from ..data import MixedDegradationDataset
from ..losses import Proxy
from ..pretrained import PRETRAINED_PARTS, load_network_file
from ..registry import build_network
from ..tasks import TASKS
from .options import apply_override

__all__ = ['render_medium', 'main']


def _load_restorer(net_opt: dict, path: str, param_key: str, device: torch.device,
                   option: str, trained_on_fold: int) -> torch.nn.Module:
    if not os.path.isfile(path) and path not in PRETRAINED_PARTS:
        raise FileNotFoundError(f'{option}: {path!r} does not exist; train it with '
                                'options/train_medium_restorer.yml (stage 1a)')
    return load_network_file(build_network(dict(net_opt)), path, option, param_key,
                             trained_on_fold=trained_on_fold).to(device).eval()


def render_medium(opt: dict[str, Any], device: torch.device | None = None,
                  progress: bool = True) -> dict[str, int]:
    """Render both folds; return counts of written and skipped images."""
    from tqdm import tqdm

    device = select_device(device)
    for key in ('datasets', 'network_g', 'restorers', 'medium_root'):
        if key not in opt:
            raise KeyError(f'render options need {key!r}')
    root = str(opt['medium_root'])
    counts = {'written': 0, 'skipped': 0}
    given = [str((opt['restorers'] or {}).get(f'fold{k}')) for k in (0, 1)]
    if os.path.exists(given[0]) and os.path.exists(given[1]) and os.path.samefile(*given):
        raise ValueError(f'restorers: fold0 and fold1 both name {given[0]}; each fold is rendered by the '
                         'restorer trained on the other: give the two stage-1a restorers')
    for fold in (0, 1):
        other = f'fold{1 - fold}'
        if other not in opt['restorers']:
            raise KeyError(f'restorers.{other}: the restorer trained on fold {1 - fold} renders fold {fold}')
        data_opt = dict(opt['datasets']['train'], phase='val', fold=fold)
        data_opt.pop('center_crop_multiple', None)
        dataset = MixedDegradationDataset(data_opt)
        todo = [i for i in range(len(dataset))
                if not os.path.isfile(os.path.join(root, dataset.sample_key(i) + '.png'))]
        counts['skipped'] += len(dataset) - len(todo)
        if not todo:
            continue
        net = _load_restorer(opt['network_g'], str(opt['restorers'][other]),
                             opt.get('param_key', 'params'), device, f'restorers.{other}', 1 - fold)
        for i in tqdm(todo, desc=f'medium tier, fold {fold}', unit='img', disable=not progress):
            sample = dataset[i]
            with torch.no_grad():
                out = net(sample['lq'][None].to(device)).float().clamp(0, 1)[0]
            rgb = (out.permute(1, 2, 0).cpu().numpy() * 255.0).round().astype(np.uint8)
            atomic_imwrite(os.path.join(root, dataset.sample_key(i) + '.png'), rgb[..., ::-1])
            counts['written'] += 1
    return counts


def render_proxies(opt: dict[str, Any], device: torch.device | None = None,
                   progress: bool = True) -> dict[str, int]:
    """Render each proxy of ``opt['proxies']`` on the pairs it handles whose degradation is a
    file; return counts of written and skipped images."""
    from tqdm import tqdm

    counts = {'written': 0, 'skipped': 0}
    specs = [(i, p) for i, p in enumerate(opt.get('proxies') or [])
             if not ('checkpoints' in p or p.get('sigmas'))  # the medium tier; synthesised noise only
             and (opt.get('external_proxies', True) or not p.get('external'))]
    if not specs:
        return counts
    if opt.get('proxy_root') is None:
        raise KeyError('proxy_root: the folder the proxies\' renders go to (datasets.train.proxy_root '
                       'of the training file reads them)')
    device = select_device(device)
    data_opt = dict(opt['datasets']['train'], phase='val')
    for key in ('center_crop_multiple', 'fold', 'medium_root', 'proxy_root'):
        data_opt.pop(key, None)
    dataset = MixedDegradationDataset(data_opt)
    files = [i for i in range(len(dataset)) if dataset.has_degraded_file(i)]
    for i, spec in specs:
        proxy = Proxy(spec, f'proxies[{i}]').to(device)
        folder = os.path.join(str(opt['proxy_root']), proxy.name)
        todo = [j for j in files if bool(proxy.handles[TASKS.index(dataset.sample_key(j).split('/')[0])])]
        done = [j for j in todo if os.path.isfile(os.path.join(folder, dataset.sample_key(j) + '.png'))]
        counts['skipped'] += len(done)
        for j in tqdm(sorted(set(todo) - set(done)), desc=f'proxy {proxy.name}', unit='img', disable=not progress):
            sample = dataset[j]
            out = proxy(sample['lq'][None].to(device), task_id=torch.tensor([sample['task_id']], device=device))[0]
            rgb = (out.permute(1, 2, 0).cpu().numpy() * 255.0).round().astype(np.uint8)
            atomic_imwrite(os.path.join(folder, dataset.sample_key(j) + '.png'), rgb[..., ::-1])
            counts['written'] += 1
    return counts


def _with_training_proxies(opt: dict[str, Any], option_file: str) -> None:
    """``proxies`` / ``external_proxies`` from the stage-2 file ``train_options`` names
    (a path relative to the render option file)."""
    path = opt.get('train_options')
    if path is None or 'proxies' in opt:
        return
    path = os.path.join(os.path.dirname(os.path.abspath(option_file)), os.path.expanduser(str(path)))
    train = read_yaml(path, 'train_options')
    dpl = ((train or {}).get('train') or {}).get('dpl_opt') or {}
    opt['proxies'] = list(dpl.get('proxies') or [])
    opt.setdefault('external_proxies', dpl.get('external_proxies', True))


def main(argv: list[str] | None = None) -> dict[str, int]:
    parser = argparse.ArgumentParser(description='Render the stage-1 medium quality tier.')
    parser.add_argument('-opt', required=True, help='render option file')
    parser.add_argument('--device', default='auto', help='auto (a GPU when there is one), cpu, cuda or cuda:N')
    parser.add_argument('--force_yml', nargs='+', default=None,
                        help='override options as the training runner does, e.g. network_g:dim=8')
    args = parser.parse_args(argv)
    opt = read_yaml(args.opt, '-opt')
    if not isinstance(opt, dict):
        raise ValueError(f'-opt: {args.opt} holds {"nothing" if opt is None else "a " + type(opt).__name__}; '
                         'expected render options (datasets, network_g, restorers, medium_root)')
    _with_training_proxies(opt, args.opt)  # before the overrides, which may reshape them
    for entry in args.force_yml or []:
        apply_override(opt, entry)
    try:
        device = select_device(args.device)
    except (RuntimeError, ValueError) as exc:
        parser.error(f'--device: {exc}')
    counts = render_medium(opt, device)
    print(f"medium tier in {opt['medium_root']}: {counts['written']} written, "
          f"{counts['skipped']} already there", flush=True)
    proxies = render_proxies(opt, device)
    if proxies['written'] or proxies['skipped']:
        print(f"proxies in {opt['proxy_root']}: {proxies['written']} written, "
              f"{proxies['skipped']} already there", flush=True)
    return dict(counts, proxies_written=proxies['written'], proxies_skipped=proxies['skipped'])

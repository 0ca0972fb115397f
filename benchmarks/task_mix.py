"""Which tasks a demo-sized PerceiveIR learns when trained on a mix: the deblur question.

    python benchmarks/task_mix.py --mix demo            # the demo's five tasks and repeats
    python benchmarks/task_mix.py --mix demo --oracle   # z replaced by the true task (one-hot)
    python benchmarks/task_mix.py --tasks denoise:30,deblur:60 --iters 1000 --cl 0.1
    python benchmarks/task_mix.py --iters 600 --cl 0.1 --net cfe_centred_input=true --lr 2e-3 --ema 0.995
    python benchmarks/task_mix.py --cl 0.1 --cfe-lr 10 --seed 1   # the CFE learning 10x faster

Trains the network of ``options/demo/train_demo.yml`` (same size, crop, batch, AdamW and
cosine schedule) on the bundled training photos with L1 (+ ``--cl`` x L_cl), in a plain
loop: no CLIP / DPL terms, so a run takes minutes.  Then, per task, on the held-out photo
and on the training photos (evaluation degradations, fixed seeds): PSNR of the degraded
input and of the output, and the high-frequency error (RMS, 0-255 levels, of the error
minus its 9x9 box blur): a restorer that sharpens lowers it on blurred inputs.  Last, how
well the degradation vector z tells the tasks apart: nearest task centroid of z over 48 px
tiles of the training photos (and of the held-out photo, against the same centroids), and
the mean cosine of z between tasks before and after training.  ``--net`` overrides network
options, ``--lr`` the learning rate, ``--ema`` evaluates weights averaged as BasicSR's
``ema_decay`` does, ``--cfe-lr`` scales the CFE's learning rate (its own parameter group).
``--oracle`` swaps z for the one-hot task label, i.e. a perfect degradation recogniser.
``--mix`` labels the run; the iterations, loss weights and options are appended to it.  Each run is added to benchmarks/results/task_mix.{json,md}
under its label; run several in parallel with OMP_NUM_THREADS=1.
"""
from __future__ import annotations

import argparse
import copy
import fcntl
import json
import os
import time

from _common import DEMO_TASKS as TASKS, RESULTS, eval_set, machine, report, tile_vectors

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(REPO, 'options/demo/train_demo.yml')


def _sources(spec: str | None, demo: dict) -> list[dict]:
    if spec is None:
        return [dict(s) for s in demo['datasets']['train']['sources']]
    out = []
    for part in spec.split(','):
        task, repeat = part.split(':')
        src = {'task': task, 'layout': 'synthetic', 'dataroot': 'data/samples/train', 'repeat': int(repeat)}
        if task == 'denoise':
            src['sigmas'] = [15, 25, 50]
        out.append(src)
    return out


def _evaluate(net, oracle: dict, root: str) -> dict:
    import torch
    import torch.nn.functional as F

    from perceive_ir_arch.metrics import batch_psnr

    def high(err):  # error minus its 9x9 local mean, RMS in levels
        low = F.avg_pool2d(F.pad(err, (4, 4, 4, 4), mode='reflect'), 9, 1)
        return float((err - low).pow(2).mean().sqrt() * 255)

    def psnr(a, b):
        return float(batch_psnr(a, b))

    rows = {}
    for task in TASKS:
        data = eval_set(task, root)
        acc = {'input_psnr': [], 'psnr': [], 'input_high': [], 'high': []}
        for sample in data:
            lq, gt = sample['lq'][None], sample['gt'][None]
            oracle['task'] = torch.tensor([sample['task_id']])
            out = net(lq).clamp(0, 1)
            for key, value in (('input_psnr', psnr(lq, gt)), ('psnr', psnr(out, gt)),
                               ('input_high', high(lq - gt)), ('high', high(out - gt))):
                acc[key].append(value)
        rows[task] = {k: sum(v) / len(v) for k, v in acc.items()}
    return rows


def _z_accuracy(net) -> tuple[dict, dict]:
    """Nearest task centroid of z (centroids from the training photos' 48 px tiles): the
    share of tiles of each task recognised, on the training photos and on the held-out one."""
    import torch
    import torch.nn.functional as F

    train, held_out = tile_vectors(net, 'data/samples/train'), tile_vectors(net, 'data/samples/test')
    centroids = torch.stack([F.normalize(train[t].mean(0), dim=0) for t in TASKS])
    return tuple({t: float(((zs[t] @ centroids.t()).argmax(1) == k).float().mean()) for k, t in enumerate(TASKS)}
                 for zs in (train, held_out))


def _z_cosine(net) -> float:
    """Mean cosine similarity of z between tiles of different tasks (1: z tells nothing)."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        z = F.normalize(torch.cat([net.degradation_vector(eval_set(t, 'data/samples/train')[0]['lq'][None, :, :48, :48])
                                   for t in TASKS]), dim=1)
    sim = z @ z.t()
    n = len(TASKS)
    return float((sim.sum() - sim.diagonal().sum()) / (n * n - n))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--mix', default=None, help='label of this run in the results (default: from the options)')
    parser.add_argument('--tasks', default=None, help='task:repeat,... (default: the demo\'s sources)')
    parser.add_argument('--iters', type=int, default=None, help='default: the demo\'s total_iter')
    parser.add_argument('--cl', type=float, default=0.0, help='weight of L_cl (0: L1 only)')
    parser.add_argument('--oracle', action='store_true', help='z = one-hot of the true task')
    parser.add_argument('--net', action='append', default=[], metavar='KEY=VALUE',
                        help='override a network_g option of the demo (YAML value), e.g. cfe_centred_input=true')
    parser.add_argument('--lr', type=float, default=None, help="default: the demo's")
    parser.add_argument('--ema', type=float, default=None,
                        help="evaluate an EMA of the weights with this decay (default: the demo's ema_decay)")
    parser.add_argument('--cfe-lr', type=float, default=1.0, metavar='SCALE',
                        help="the CFE's learning rate as a multiple of the network's")
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    import torch
    import torch.nn.functional as F
    import yaml
    from basicsr.archs import build_network

    import perceive_ir_arch  # noqa: F401
    from perceive_ir_arch.data.mixed_degradation_dataset import MixedDegradationDataset
    from perceive_ir_arch.losses import DegradationContrastiveLoss

    with open(DEMO) as f:
        demo = yaml.safe_load(f)
    train, ds_opt = demo['train'], demo['datasets']['train']
    iters = args.iters or int(train['total_iter'])
    label = args.mix or ','.join(f"{s['task']}:{s.get('repeat', 1)}" for s in _sources(args.tasks, demo))
    overrides = {k: yaml.safe_load(v) for k, v in (item.split('=', 1) for item in args.net)}
    label += f', {iters} it' + (f', L_cl {args.cl:g}' if args.cl else '') + (', oracle z' if args.oracle else '')
    ema_decay = float(train.get('ema_decay') or 0) if args.ema is None else args.ema
    label += ''.join(f', {k}={v}' for k, v in overrides.items()) + (f', lr {args.lr:g}' if args.lr else '')
    label += f', CFE lr x{args.cfe_lr:g}' if args.cfe_lr != 1 else ''
    label += f', EMA {ema_decay:g}' if ema_decay else ''
    os.chdir(REPO)  # the demo's dataroots are relative to the repository
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    net = build_network({**demo['network_g'], **overrides})
    averaged = copy.deepcopy(net) if ema_decay else None
    z_cosine_at_start = None if args.oracle else _z_cosine(net)
    oracle: dict = {}
    if args.oracle:
        dim = int(demo['network_g'].get('degradation_dim', 128))
        net.cfe.forward = lambda x: F.one_hot(oracle['task'], dim).float()
    data = MixedDegradationDataset({
        'name': 'task_mix', 'phase': 'train', 'sources': _sources(args.tasks, demo),
        'gt_size': ds_opt['gt_size'], 'use_hflip': True, 'use_vflip': True,
        'positive_crop': args.cl > 0, 'io_backend': {'type': 'disk'}})
    loader = torch.utils.data.DataLoader(data, batch_size=ds_opt['batch_size_per_gpu'], shuffle=True,
                                         num_workers=1, drop_last=True, persistent_workers=True)
    optim_opt = {k: v for k, v in train['optim_g'].items() if k != 'type'}
    demo_lr = float(optim_opt.pop('lr'))
    lr = demo_lr if args.lr is None else args.lr
    named = list(net.named_parameters())
    groups = [{'params': [p for n, p in named if not n.startswith('cfe.')]},
              {'params': [p for n, p in named if n.startswith('cfe.')], 'lr': lr * args.cfe_lr}]
    optimizer = torch.optim.AdamW(groups, lr=lr, **optim_opt)
    # the demo's CosineAnnealingRestartLR with one period is this curve
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=iters, eta_min=float(train['scheduler'].get('eta_min', 1e-6)))
    contrastive = DegradationContrastiveLoss(1.0, 0.1)

    start, it = time.time(), 0
    while it < iters:
        for batch in loader:
            oracle['task'] = batch['task_id']
            if args.cl:
                out, z, z_pos = net(batch['lq'], positive=batch['lq_pos'])
                loss = F.l1_loss(out, batch['gt']) + args.cl * contrastive(z, z_pos, labels=batch['task_id'])
            else:
                loss = F.l1_loss(net(batch['lq']), batch['gt'])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            if averaged is not None:  # as BasicSR's model_ema: the weights only
                with torch.no_grad():
                    for a, p in zip(averaged.parameters(), net.parameters()):
                        a.mul_(ema_decay).add_(p.detach(), alpha=1 - ema_decay)
            it += 1
            if it >= iters:
                break
    train_s = time.time() - start

    if averaged is not None:
        net = averaged
    net.eval()
    with torch.no_grad():
        run = {'iters': iters, 'train_seconds': round(train_s, 1),
               'held_out': _evaluate(net, oracle, 'data/samples/test'),
               'training_photos': _evaluate(net, oracle, 'data/samples/train'),
               'z_accuracy': None, 'z_accuracy_held_out': None,
               'z_cosine': {'start': z_cosine_at_start, 'end': None if args.oracle else _z_cosine(net)},
               'machine': machine()}
        if not args.oracle:
            run['z_accuracy'], run['z_accuracy_held_out'] = _z_accuracy(net)

    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, 'task_mix.json'), 'a+') as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # runs in parallel add to the same file
        held.seek(0)
        text = held.read()
        runs = json.loads(text) if text.strip() else {}
        runs[label] = run
        _report(runs)


def _report(runs: dict) -> None:
    cells = []
    for name, r in runs.items():
        gains = [f"{r['held_out'][t]['psnr'] - r['held_out'][t]['input_psnr']:+.2f} "
                 f"({r['training_photos'][t]['psnr'] - r['training_photos'][t]['input_psnr']:+.2f})"
                 for t in TASKS]
        blur = r['held_out']['deblur']
        z = 'oracle' if r['z_accuracy'] is None else ' '.join(f'{r["z_accuracy"][t]:.2f}' for t in TASKS)
        if r.get('z_accuracy_held_out'):
            z += ' (held out: ' + ' '.join(f'{r["z_accuracy_held_out"][t]:.2f}' for t in TASKS) + ')'
        cos = r.get('z_cosine') or {}
        cos = '-' if cos.get('start') is None else f"{cos['start']:.4f} / {cos['end']:.4f}"
        cells.append([name, *gains, f"{blur['high']:.2f} / {blur['input_high']:.2f}", z, cos])
    report('task_mix', 'Task mix: the demo network trained with L1 (+ L_cl) on the bundled photos. '
           'Per task, restored minus input PSNR in dB on the held-out photo (on the training '
           'photos); the high-frequency error of the held-out deblur output / input (levels); '
           'z task accuracy on 48 px training tiles (denoise derain dehaze deblur lowlight; on the held-out photo\'s tiles where measured); '
           'mean cosine of z between tasks before / after training (1: z tells nothing).',
           ['run', *TASKS, 'deblur high-freq error out / in', 'z accuracy', 'z cosine start / end'], cells, runs)


if __name__ == '__main__':
    main()

"""Training-step cost of PerceiveIRModel and each loss term's share of it.

    python benchmarks/train_step.py [--config demo|paper] [--steps 5] [--device cpu|cuda]
                                    [--autocast bf16] [--compile] [--no-renders]
                                    [--accumulate N] [--checkpointing] [--batch B] [--external]
                                    [--tasks denoise derain ...] [--warmup 1]

``demo`` is options/demo/train_demo.yml (batch 8, 48 px crops); ``paper`` is
options/perceive_ir.yml at batch 2 (256 px crops).  Frozen parts are random stand-ins
(DINOv2, CLIP, VGG16) built in memory, with a random prompt file and random medium
proxies (one per fold) written to a temporary folder: weights change neither time nor
memory.  The medium tier is cross-fitted: samples of tasks other than denoise read their
stage-1b render (here: a copy of the input), denoise samples are computed by the other
fold's restorer; ``--no-renders`` computes every sample, the cost of a proxy run on the
step's crops.  With ``--external`` the peers' proxies are rendered the same way (their
``render_<name>`` read for every sample but noise, as render_medium writes them), or, with
``--no-renders``, computed on every sample they handle.  ``--tasks`` gives the batch's
samples' tasks in turn (default: the config's tasks in turn).  Batches
are random tensors of the configured size, so the data pipeline is not measured here
(see benchmarks/data.py).  Prints the iterations per second of whole steps, the peak
memory, and the share of one step spent in: the network's forward (with the positive
crop's CFE), each loss term, and backward + optimizer step.  ``--accumulate N`` splits the
batch into N micro-batches (``train.accumulate``), ``--checkpointing`` recomputes the
network's block activations in backward (``network_g.checkpointing``); the network's own
estimate of the activations it keeps is printed beside the measured peak.  Results:
benchmarks/results/train_step_<config>.{json,md}.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time

from _common import machine, stand_in_files, write_results

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = {'demo': ('options/demo/train_demo.yml', None),
           'paper': ('options/perceive_ir.yml', 2)}


def _options(config: str, tmp: str, device: str, autocast: str | None, accumulate: int = 1,
             checkpointing: bool = False, batch_size: int | None = None, external: bool = False) -> dict:
    import yaml

    path, batch = CONFIGS[config]
    with open(os.path.join(REPO, path)) as f:
        opt = yaml.safe_load(f)
    stand_in_files(opt, tmp, external=external)
    train = opt['train']
    train['autocast'] = autocast
    train['accumulate'] = accumulate
    opt['network_g']['checkpointing'] = checkpointing
    ds = opt['datasets']['train']
    # the probe is drawn from the training set: the bundled photos stand in for it
    tasks = list(dict.fromkeys(s['task'] for s in ds['sources']))
    ds['sources'] = [{'task': t, 'layout': 'synthetic', 'dataroot': os.path.join(REPO, 'data/samples/train')}
                     for t in tasks]
    ds['io_backend'] = {'type': 'disk'}
    if batch_size or batch:
        ds['batch_size_per_gpu'] = batch_size or batch
    opt.update(is_train=True, dist=False, rank=0, world_size=1,
               num_gpu=1 if device == 'cuda' else 0)
    opt['path'] = {'pretrain_network_g': None, 'models': tmp, 'training_states': tmp,
                   'experiments_root': tmp, 'log': tmp, 'visualization': tmp}
    return opt


def _breakdown(model, step: float, sync) -> dict[str, float]:
    """One step taken apart: forward, each loss term, then the rest (backward + update);
    with accumulation the forward and the terms run on the whole batch, their time split
    the same."""
    dev = model.device
    parts = {}
    sync()
    start = time.perf_counter()
    with model._autocast():
        if model.cri_cl is not None:
            out, z, z_pos = model.net_g(model.lq, positive=model.lq_pos)
        else:
            out = model.net_g(model.lq)
    out = out.float()
    sync()
    parts['forward'] = time.perf_counter() - start
    terms = {'l_pix': lambda: model.cri_pix(out, model.gt)}
    if model.cri_cl is not None:
        terms['l_cl'] = lambda: model.cri_cl(z.float(), z_pos.float(), labels=model.task_id)
    if model.cri_clip is not None:
        terms['l_clip'] = lambda: model.cri_clip(out)
    if model.cri_dpl is not None:
        rho = model.probe.rho_for(model.task_id, out.shape[0], dev)
        terms['l_dpl'] = lambda: model.cri_dpl(out, model.gt, lq=model.lq, task_id=model.task_id, rho=rho,
                                               **model.medium_tier)
    for name, fn in terms.items():
        sync()
        start = time.perf_counter()
        fn()
        sync()
        parts[name] = time.perf_counter() - start
    parts['backward + step'] = max(step - sum(parts.values()), 0.0)
    return parts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--config', default='demo', choices=list(CONFIGS))
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--autocast', default=None, choices=[None, 'bf16', 'fp16'])
    parser.add_argument('--compile', action='store_true', help='torch.compile the network')
    parser.add_argument('--accumulate', type=int, default=1, help='micro-batches per step')
    parser.add_argument('--checkpointing', action='store_true', help='activation checkpointing')
    parser.add_argument('--batch', type=int, help='batch size (default: the config\'s)')
    parser.add_argument('--external', action='store_true',
                        help="the peers' hard negatives too (PromptIR, InstructIR, FSNet, MambaIR; slow on a CPU)")
    parser.add_argument('--tasks', nargs='+', help="the samples' tasks in turn (default: the config's)")
    parser.add_argument('--warmup', type=int, default=1, help='untimed steps first')
    parser.add_argument('--no-breakdown', action='store_true',
                        help='whole steps only (the breakdown runs the loss terms once more)')
    parser.add_argument('--no-renders', action='store_true',
                        help='no stage-1b renders: the medium proxy runs on every sample')
    args = parser.parse_args()

    import torch
    from basicsr.models import build_model

    import perceive_ir_arch  # noqa: F401
    from perceive_ir_arch.tasks import TASKS

    tmp = tempfile.mkdtemp(prefix='perceive_ir_bench_')
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    opt = _options(args.config, tmp, args.device, args.autocast, args.accumulate, args.checkpointing, args.batch,
                   args.external)
    model = build_model(opt)
    if model.probe is not None:
        model.next_probe = 10 ** 9  # steps only; the probe is an epoch-level cost
    if args.compile:
        model.net_g = torch.compile(model.net_g)
    ds = opt['datasets']['train']
    b, size = ds['batch_size_per_gpu'], ds['gt_size']
    dev = model.device
    g = torch.Generator().manual_seed(0)
    names = args.tasks or [s['task'] for s in ds['sources']]
    task_id = torch.tensor([TASKS.index(names[i % len(names)]) for i in range(b)])
    data = {'gt': torch.rand(b, 3, size, size, generator=g), 'task_id': task_id}
    data['lq'] = (data['gt'] * 0.5 + 0.1 * torch.rand(b, 3, size, size, generator=g)).clamp(0, 1)
    data['lq_pos'] = data['lq'].flip(-1)
    data['lq_path'] = [f'bench/{i}.png' for i in range(b)]
    noise = task_id == TASKS.index('denoise')
    data['level'] = torch.where(noise, 25.0, 0.0)  # denoise samples: sigma 25
    # the cross-fitted medium tier: paired samples read their stage-1b render, synthesised
    # ones (noise) are computed; ``--no-renders`` computes all (no medium_root)
    data['fold'] = torch.arange(b) % 2
    if not args.no_renders:
        data['medium'] = data['lq'].clone()
        data['has_medium'] = ~noise
        rendered = [p.name for p in (model.cri_dpl.proxies if model.cri_dpl is not None else [])
                    if not p.cross_fitted]
        for name in rendered:
            data[f'render_{name}'] = data['lq'].clone()
            data[f'has_render_{name}'] = ~noise
    model.feed_data(data)

    def sync():
        if dev.type == 'cuda':
            torch.cuda.synchronize()

    built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # models and frozen parts
    for _ in range(args.warmup):
        model.optimize_parameters(1)  # warm-up (and compilation)
    if dev.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(dev)
    steps = []
    for it in range(args.steps):
        sync()
        start = time.perf_counter()
        model.optimize_parameters(2 + it)
        sync()
        steps.append(time.perf_counter() - start)
    step = statistics.median(steps)
    # the peak of whole steps, before the breakdown below runs a full-batch forward
    peak = (torch.cuda.max_memory_allocated(dev) if dev.type == 'cuda'
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)

    parts = {} if args.no_breakdown else _breakdown(model, step, sync)

    info = machine(args.device)
    net = model.get_bare_model(model.net_g)
    estimate = net.training_bytes(b // args.accumulate, size * size, 2 if args.autocast else 4)
    result = {'config': args.config, 'batch': b, 'crop': size, 'autocast': args.autocast,
              'accumulate': args.accumulate, 'checkpointing': args.checkpointing,
              'rss_before_build_mib': before / 2 ** 20, 'rss_after_build_mib': built / 2 ** 20,
              'estimate_activations_mib': estimate / 2 ** 20,
              'renders': not args.no_renders, 'external': args.external,
              'tasks': [TASKS[i] for i in task_id.tolist()], 'warmup': args.warmup,
              'compile': args.compile, 'steps': args.steps, 'median_step_s': step,
              'it_per_s': 1 / step, 'peak_mib': peak / 2 ** 20,
              'share': {k: v / step for k, v in parts.items()}, 'machine': info}
    lines = [f'Training step, {args.config} config (batch {b}, {size} px), device {info["device"]}, '
             f'autocast {args.autocast}, compile {args.compile}, stage-1b renders {not args.no_renders}, '
             f'accumulate {args.accumulate}, checkpointing {args.checkpointing}, '
             f'external proxies {args.external}, tasks {[TASKS[i] for i in task_id.tolist()]}; '
             f'median of {args.steps} steps; '
             f'machine: {info}', '',
             f'{1 / step:.3f} it/s ({step:.2f} s per step), peak memory {peak / 2 ** 20:.0f} MiB '
             f'({"GPU allocated" if dev.type == "cuda" else "process RSS"}; '
             f'{built / 2 ** 20:.0f} MiB after building the model and its frozen parts); the network\'s '
             f'estimate of the activations it keeps: {estimate / 2 ** 20:.0f} MiB', '',
             '| part of one step | seconds | share |', '|---|---|---|']
    lines += [f'| {k} | {v:.3f} | {v / step:.0%} |' for k, v in parts.items()]
    if not parts:
        lines += ['| (not taken: --no-breakdown) | | |']
    text = '\n'.join(lines)
    print(text)
    tag = args.config + ('_' + args.device if args.device != 'cpu' else '') + (
        '_' + args.autocast if args.autocast else '') + ('_compile' if args.compile else '') + (
        '_no_renders' if args.no_renders else '') + (
        f'_accumulate{args.accumulate}' if args.accumulate > 1 else '') + ('_external' if args.external else '') + (
        '_checkpointing' if args.checkpointing else '') + (f'_batch{args.batch}' if args.batch else '')
    write_results(f'train_step_{tag}', result, text)
    sys.stdout.flush()


if __name__ == '__main__':
    main()

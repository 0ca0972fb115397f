"""The paper configuration on one accelerator: training step, forward passes, a large restore.

    python benchmarks/gpu.py [--device cuda] [--quick] [--out DIR] [--skip-compile]

One table (and JSON) under benchmarks/results/gpu_<card>.{json,md}:

- the paper's training step (``options/perceive_ir.yml``: network and loss terms, frozen
  DINOv2 ViT-B/14, CLIP ViT-B/32, VGG16 and the medium proxy at their real sizes with
  random weights; random batches of 8 at 256 px): iterations/s, peak memory and each term's
  share, for fp32 against bf16 autocast, eager against ``torch.compile``, channels-last
  against NCHW activations;
- the default network's forward at 256 / 512 / 1024 px in fp32 and bf16;
- a 4096 x 4096 restore through ``Restorer`` with bf16 (``perceive-ir restore --half``);
- achieved TFLOP/s of the best step (FLOPs counted by torch's FlopCounterMode) against this
  card's own bf16 matrix-multiply rate, measured here on 8192^3 products; and the 500K
  iterations that rate implies.

``--quick`` runs the same code at toy sizes (tiny stand-ins, batch 2 at 32 px, 64 px
restore; fp32 steps on a CPU, no compile) so that it finishes on a CPU in under a minute: tests/test_gpu_benchmark.py runs
it, so the device run is never the script's first run.  Every measurement is guarded: one
that fails is recorded with its error and the rest still run.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import traceback
from typing import Any, Callable

from _common import RESULTS, machine, stand_in_files

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ITERATIONS = 500_000  # the paper's schedule

# the sizes of each mode: (batch, crop, forward sizes, restore size, restore tile, matmul n)
MODES = {'full': dict(batch=8, crop=256, forward=(256, 512, 1024), restore=4096, matmul=8192, steps=10),
         'quick': dict(batch=2, crop=32, forward=(32, 64), restore=64, matmul=256, steps=2)}
TINY_NET = dict(dim=8, num_blocks=[1, 1, 1, 1], num_refinement_blocks=1, heads=[1, 1, 1, 1],
                degradation_dim=16, semantic_encoder='dinov2_tiny')


def _options(quick: bool, tmp: str, device: str, batch: int, crop: int) -> dict:
    """options/perceive_ir.yml with random stand-ins for every file it names."""
    import yaml

    with open(os.path.join(REPO, 'options', 'perceive_ir.yml')) as f:
        opt = yaml.safe_load(f)
    if quick:
        opt['network_g'].update(TINY_NET)
        opt['train']['clip_quality_opt']['clip_model'] = 'clip_tiny'
    stand_in_files(opt, tmp, {k: v for k, v in TINY_NET.items()
                              if k in ('dim', 'num_blocks', 'heads', 'num_refinement_blocks')} if quick else None)
    ds = opt['datasets']['train']
    ds['sources'] = [{'task': t, 'layout': 'synthetic', 'dataroot': os.path.join(REPO, 'data/samples/train')}
                     for t in ('denoise', 'derain', 'dehaze')]
    ds.update(io_backend={'type': 'disk'}, batch_size_per_gpu=batch, gt_size=crop)
    for key in [k for k in opt['datasets'] if k != 'train']:
        del opt['datasets'][key]
    opt.update(is_train=True, dist=False, rank=0, world_size=1, num_gpu=1 if device != 'cpu' else 0)
    opt['path'] = {'pretrain_network_g': None, 'models': tmp, 'training_states': tmp,
                   'experiments_root': tmp, 'log': tmp, 'visualization': tmp}
    return opt


class Timer:
    def __init__(self, device) -> None:
        import torch

        self.cuda = device.type == 'cuda'
        self.torch = torch

    def __call__(self, fn: Callable[[], Any], repeat: int, warmup: int = 1) -> float:
        """Median seconds of ``repeat`` calls after ``warmup`` ones."""
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeat):
            if self.cuda:
                self.torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if self.cuda:
                self.torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        return statistics.median(times)


def _peak(device) -> float | None:
    import torch

    if device.type != 'cuda':
        return None
    return torch.cuda.max_memory_allocated(device) / 2 ** 30


def _reset_peak(device) -> None:
    import torch

    if device.type == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def training_steps(args, sizes: dict, rows: list, data: dict) -> None:
    import torch
    from basicsr.models import build_model

    tmp = tempfile.mkdtemp(prefix='perceive_ir_gpu_')
    opt = _options(args.quick, tmp, args.device, sizes['batch'], sizes['crop'])
    model = build_model(opt)
    model.next_probe = 10 ** 12
    dev = model.device
    b, size = sizes['batch'], sizes['crop']
    g = torch.Generator().manual_seed(0)
    batch = {'gt': torch.rand(b, 3, size, size, generator=g), 'task_id': torch.arange(b) % 3,
             'lq_path': [f'bench/{i}.png' for i in range(b)]}
    batch['lq'] = (batch['gt'] * 0.6 + 0.2 * torch.rand(b, 3, size, size, generator=g)).clamp(0, 1)
    batch['lq_pos'] = batch['lq'].flip(-1)
    # the cross-fitted medium tier: paired samples read their render, noise is computed
    batch.update(fold=torch.arange(b) % 2, medium=batch['lq'].clone(), has_medium=batch['task_id'] != 0)
    model.feed_data(batch)
    timer = Timer(dev)
    eager = model.net_g
    counter = iter(range(2, 10 ** 9))
    # bf16 on a CPU without native bf16 is emulated and slow: a quick CPU check runs fp32
    low = None if args.quick and dev.type == 'cpu' else 'bf16'
    name = low or 'fp32'
    variants = [('fp32', None, False, False), (name, low, False, False),
                (f'{name}, NCHW', low, False, 'nchw'), (f'{name}, channels-last', low, False, 'nhwc')]
    if not args.skip_compile:
        variants.append((f'{name}, torch.compile', low, True, False))
    for label, autocast, compiled, layout in variants:
        try:
            model.autocast_dtype = {'bf16': torch.bfloat16, None: None}[autocast]
            model.net_g = torch.compile(eager) if compiled else eager
            if layout:
                eager.channels_last = layout == 'nhwc'
            _reset_peak(dev)
            start = time.perf_counter()
            model.optimize_parameters(next(counter))  # warm-up (and compilation)
            first = time.perf_counter() - start
            step = timer(lambda: model.optimize_parameters(next(counter)), sizes['steps'], warmup=1)
            row = {'part': 'training step', 'variant': label, 'seconds': step, 'it_per_s': 1 / step,
                   'peak_gib': _peak(dev), 'first_call_s': first}
            rows.append(row)
            print(f'  step {label}: {step * 1000:.1f} ms, first call {first:.1f} s', flush=True)
        except Exception as exc:  # noqa: BLE001  (one failed variant must not end the run)
            rows.append({'part': 'training step', 'variant': label, 'error': _error(exc)})
        finally:
            model.net_g = eager
            eager.channels_last = None  # the network's own choice
    model.autocast_dtype = {'bf16': torch.bfloat16, None: None}[low]
    data['step_shares'] = _shares(model, timer)
    data['step_flops'] = _count_flops(lambda: model.optimize_parameters(next(counter)))


def _shares(model, timer: Timer) -> dict:
    """Seconds of one (bf16) step's parts: forward, each loss term, the rest (backward + update)."""
    parts: dict[str, float] = {}
    state = {}

    def forward():
        with model._autocast():
            out, z, z_pos = model.net_g(model.lq, positive=model.lq_pos)
        state.update(out=out.float(), z=z, z_pos=z_pos)

    parts['forward'] = timer(forward, 3)
    out = state['out']
    terms = {'L1': lambda: model.cri_pix(out, model.gt),
             'L_cl': lambda: model.cri_cl(state['z'].float(), state['z_pos'].float(), labels=model.task_id),
             'L_clip': lambda: model.cri_clip(out),
             'L_dpl': lambda: model.cri_dpl(out, model.gt, lq=model.lq, task_id=model.task_id,
                                            rho=model.probe.rho_for(model.task_id, out.shape[0], model.device),
                                            **model.medium_tier)}
    for name, fn in terms.items():
        parts[name] = timer(fn, 3)
    parts['whole step'] = timer(lambda: model.optimize_parameters(10 ** 9), 3)
    parts['backward + update'] = max(parts['whole step'] - sum(v for k, v in parts.items() if k != 'whole step'), 0)
    return parts


def _count_flops(fn: Callable[[], Any]) -> float | None:
    from torch.utils.flop_counter import FlopCounterMode

    try:
        with FlopCounterMode(display=False) as counter:
            fn()
        return float(counter.get_total_flops())
    except Exception:  # noqa: BLE001
        return None


def forwards(args, sizes: dict, rows: list) -> None:
    import torch

    from perceive_ir_arch.archs import PerceiveIR

    dev = torch.device(args.device)
    net = PerceiveIR(**(TINY_NET if args.quick else {}), semantic_pretrained=None).to(dev).eval()
    timer = Timer(dev)
    for size in sizes['forward']:
        x = torch.rand(1, 3, size, size, device=dev)
        for label, dtype in (('fp32', None), ('bf16', torch.bfloat16)):
            try:
                _reset_peak(dev)

                def run():
                    with torch.no_grad(), torch.autocast(dev.type, dtype=dtype or torch.float32,
                                                         enabled=dtype is not None):
                        net(x)
                seconds = timer(run, 3 if not args.quick else 1)
                flops = _count_flops(run)
                rows.append({'part': f'forward {size}^2', 'variant': label, 'seconds': seconds,
                             'peak_gib': _peak(dev), 'tflops': flops / seconds / 1e12 if flops else None})
                print(f'  forward {size} {label}: {seconds * 1000:.1f} ms', flush=True)
            except Exception as exc:  # noqa: BLE001
                rows.append({'part': f'forward {size}^2', 'variant': label, 'error': _error(exc)})


def restore(args, sizes: dict, rows: list) -> None:
    import numpy as np
    import torch

    from perceive_ir_arch.archs import PerceiveIR
    from perceive_ir_arch.inference.restorer import Restorer

    dev = torch.device(args.device)
    net = PerceiveIR(**(TINY_NET if args.quick else {}), semantic_pretrained=None)
    restorer = Restorer(net, dev, half='bf16')
    size = sizes['restore']
    photo = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    try:
        restorer.restore(photo[:size // 4, :size // 4])  # warm-up
        _reset_peak(dev)
        start = time.perf_counter()
        restorer.restore(photo)
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        rows.append({'part': f'restore {size}x{size} (uint8 in/out)', 'variant': 'bf16 (--half)',
                     'seconds': seconds, 'peak_gib': _peak(dev),
                     'tiles': restorer.count_tiles(size, size)})
        print(f'  restore {size}: {seconds:.2f} s', flush=True)
    except Exception as exc:  # noqa: BLE001
        rows.append({'part': f'restore {size}x{size}', 'variant': 'bf16 (--half)', 'error': _error(exc)})


def matmul_rate(args, n: int) -> float | None:
    """This card's bf16 matrix-multiply rate (TFLOP/s) on n^3 products of random data."""
    import torch

    dev = torch.device(args.device)
    dtype = torch.bfloat16 if dev.type == 'cuda' else torch.float32
    a = torch.randn(n, n, device=dev, dtype=dtype)
    b = torch.randn(n, n, device=dev, dtype=dtype)
    seconds = Timer(dev)(lambda: a @ b, 10, warmup=3)
    return 2 * n ** 3 / seconds / 1e12


def _error(exc: BaseException) -> str:
    return f'{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ""}'


def _table(data: dict) -> str:
    info = data['machine']
    lines = [f'Perceive-IR on {info["device"]} ({"quick, toy sizes" if data["quick"] else "paper configuration"}); '
             f'torch {info["torch"]}; card bf16 matmul {data["matmul_tflops"]:.3g} TFLOP/s '
             f'({data["matmul_n"]}^3 products)', '',
             '| part | variant | ms | it/s | peak GiB | TFLOP/s | note |', '|---|---|---|---|---|---|---|']
    for r in data['rows']:
        if 'error' in r:
            lines.append(f'| {r["part"]} | {r["variant"]} | | | | | failed: {r["error"]} |')
            continue
        note = f'first call {r["first_call_s"]:.1f} s' if 'first_call_s' in r else (
            f'{r["tiles"]} tile(s)' if 'tiles' in r else '')
        lines.append('| {} | {} | {:.1f} | {} | {} | {} | {} |'.format(
            r['part'], r['variant'], r['seconds'] * 1000,
            f'{r["it_per_s"]:.2f}' if 'it_per_s' in r else '',
            f'{r["peak_gib"]:.1f}' if r.get('peak_gib') is not None else '',
            f'{r["tflops"]:.1f}' if r.get('tflops') else '', note))
    best = data.get('best_step')
    if best:
        lines += ['', f'Best step: {best["variant"]}, {best["seconds"] * 1000:.1f} ms; '
                  f'{data["step_flops"] / 1e12:.2f} TFLOP per step -> {best["tflops"]:.1f} TFLOP/s, '
                  f'{best["tflops"] / data["matmul_tflops"]:.1%} of the card\'s bf16 matmul rate; '
                  f'{ITERATIONS:,} iterations: {best["seconds"] * ITERATIONS / 3600:.1f} hours.']
    shares = data.get('step_shares')
    if shares:
        whole = shares['whole step']
        lines += ['', 'One step taken apart: ' + ', '.join(
            f'{k} {v * 1000:.1f} ms ({v / whole:.0%})' for k, v in shares.items() if k != 'whole step')]
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--quick', action='store_true', help='toy sizes: a CPU check of the script')
    parser.add_argument('--skip-compile', action='store_true',
                        help='leave out the torch.compile step (always left out with --quick: '
                        'compiling takes minutes on a CPU)')
    parser.add_argument('--out', default=RESULTS, help='folder for gpu_<card>.{json,md}')
    args = parser.parse_args(argv)

    import perceive_ir_arch  # noqa: F401  (registers; aliases torchvision for basicsr first)
    import torch

    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit('benchmarks/gpu.py: no CUDA device here; use --device cpu --quick for a check')
    sizes = MODES['quick' if args.quick else 'full']
    args.skip_compile = args.skip_compile or args.quick
    torch.backends.cuda.matmul.allow_tf32 = True  # what BasicSR users run with on Ampere and later
    torch.backends.cudnn.allow_tf32 = True
    data: dict[str, Any] = {'quick': args.quick, 'machine': machine(args.device), 'rows': [],
                            'matmul_n': sizes['matmul'], 'iterations': ITERATIONS}
    start = time.perf_counter()
    data['matmul_tflops'] = matmul_rate(args, sizes['matmul'])
    print(f'card matmul: {data["matmul_tflops"]:.1f} TFLOP/s', flush=True)
    for part in (training_steps, forwards, restore):
        try:
            if part is training_steps:
                part(args, sizes, data['rows'], data)
            else:
                part(args, sizes, data['rows'])
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            data['rows'].append({'part': part.__name__, 'variant': '', 'error': _error(exc)})
    steps = [r for r in data['rows'] if r['part'] == 'training step' and 'seconds' in r]
    if steps and data.get('step_flops'):
        best = min(steps, key=lambda r: r['seconds'])
        data['best_step'] = dict(best, tflops=data['step_flops'] / best['seconds'] / 1e12)
        data['hours_for_500k'] = best['seconds'] * ITERATIONS / 3600
    data['seconds'] = time.perf_counter() - start
    text = _table(data)
    print(text)
    card = 'cpu' if args.device == 'cpu' else data['machine']['device'].replace('NVIDIA ', '').replace(' ', '_')
    name = f'gpu_{card}' + ('_quick' if args.quick else '')
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f'{name}.json'), 'w') as f:
        json.dump(data, f, indent=2, default=str)
    with open(os.path.join(args.out, f'{name}.md'), 'w') as f:
        f.write(text + '\n')
    sys.stdout.flush()
    return data


if __name__ == '__main__':
    main()

"""Inference cost of PerceiveIR beside BasicSR's own networks, measured in the same run.

    python benchmarks/network.py [--sizes 128 256 512] [--repeat 3] [--device cpu|cuda]
                                 [--models perceive_ir reference plain semantic swinir rrdbnet]

One table: parameters (trainable; frozen apart), GFLOPs from torch's FLOP counter, median
milliseconds of a forward pass (batch 1, fp32, no_grad, after one warm-up), peak memory
(CPU: peak RSS during the passes minus the RSS before them, the peak reset after
building; each model and size in a fresh process; GPU: torch.cuda.max_memory_allocated)
and the achieved GFLOP/s.  Weights are random: they change neither time nor memory.  Results go to
benchmarks/results/network.{json,md} with the machine described.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from _common import machine, report

MODELS = {
    # the default restorer: DINOv2 ViT-B/14 + CFE guidance, 33.9M trainable
    'perceive_ir': ('PerceiveIR', {}),
    # the same network computed by the plain reference blocks kept in the tests (NCHW, layer
    # norm via mean/var, explicit q/k normalisation): what the fast blocks are measured against
    'reference': ('reference', {}),
    # the plain backbone (both guidance flags off)
    'plain': ('PerceiveIR', {'semantic_guidance': False, 'degradation_guidance': False}),
    # the frozen semantic encoder alone (what guidance adds per image)
    'semantic': ('semantic', {}),
    # BasicSR peers: SwinIR-M as used for colour denoising, RRDBNet (ESRGAN) at scale 1
    'swinir': ('SwinIR', {'upscale': 1, 'in_chans': 3, 'img_size': 128, 'window_size': 8,
                          'img_range': 1.0, 'depths': [6] * 6, 'embed_dim': 180,
                          'num_heads': [6] * 6, 'mlp_ratio': 2, 'upsampler': '',
                          'resi_connection': '1conv'}),
    'rrdbnet': ('RRDBNet', {'num_in_ch': 3, 'num_out_ch': 3, 'scale': 1, 'num_feat': 64,
                            'num_block': 23, 'num_grow_ch': 32}),
}


# sizes above this are skipped: SwinIR's 512^2 pass alone takes minutes on 2 CPU cores
LARGEST = {'swinir': 256}


def build(name: str):
    import torch
    from basicsr.archs import build_network

    import perceive_ir_arch  # noqa: F401  (registers PerceiveIR)

    kind, kwargs = MODELS[name]
    torch.manual_seed(0)
    if kind == 'reference':
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from tests.reference_blocks import reference_network
        return reference_network(build_network(dict(type='PerceiveIR')), copy=False)
    if kind == 'semantic':
        from perceive_ir_arch.backbones import SemanticEncoder
        return SemanticEncoder('dinov2_vitb14')
    return build_network(dict(type=kind, **kwargs))


def _status_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ':'))


def _reset_peak_rss() -> int:
    """Reset the process's peak RSS to its current RSS (Linux: clear_refs 5); return it in bytes."""
    gc.collect()
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return _status_kib('VmRSS') * 1024
    except OSError:  # not Linux: the high-water mark of the whole process
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _peak_rss() -> int:
    try:
        return _status_kib('VmHWM') * 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(name: str, size: int, repeat: int, device: str) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    dev = torch.device(device)
    net = build(name).to(dev).eval()
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    frozen_enc = getattr(net, 'semantic_encoder', None)
    frozen = sum(p.numel() for p in (frozen_enc.parameters() if frozen_enc is not None else []))
    if name == 'semantic':
        trainable, frozen = 0, sum(p.numel() for p in net.parameters())
    x = torch.rand(1, 3, size, size, device=dev)
    base = _reset_peak_rss()  # building may have peaked higher than the passes will
    with torch.no_grad():
        counter = FlopCounterMode(display=False)
        with counter:
            net(x)
        flops = counter.get_total_flops()
        if dev.type == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats(dev)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            net(x)
            if dev.type == 'cuda':
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    if dev.type == 'cuda':
        peak = torch.cuda.max_memory_allocated(dev)
    else:
        peak = _peak_rss() - base
    ms = statistics.median(times) * 1000
    return {'model': name, 'size': size, 'trainable_params': trainable, 'frozen_params': frozen,
            'gflops': flops / 1e9, 'median_ms': ms, 'peak_mib': peak / 2 ** 20,
            'gflop_per_s': flops / 1e9 / (ms / 1000), 'repeat': repeat}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--models', nargs='+', default=list(MODELS), choices=list(MODELS))
    parser.add_argument('--sizes', type=int, nargs='+', default=[128, 256, 512])
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--child', nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.repeat, args.device)))
        return
    rows = []
    for size in args.sizes:
        for name in args.models:
            if size > LARGEST.get(name, size):
                continue
            cmd = [sys.executable, __file__, '--child', name, str(size), '--repeat', str(args.repeat),
                   '--device', args.device]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode:
                print(f'{name} {size}: failed\n{out.stderr[-2000:]}', file=sys.stderr)
                continue
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    info = machine(args.device)
    by = lambda model: {r['size']: r['median_ms'] for r in rows if r['model'] == model}  # noqa: E731
    ours, ref = by('perceive_ir'), by('reference')
    ratio = lambda table, r, num: (  # noqa: E731
        f'{(table[r["size"]] / r["median_ms"]) if num else (r["median_ms"] / table[r["size"]]):.2f}x'
        if r['size'] in table else '')
    cells = [[r['model'], str(r['size']), f'{r["trainable_params"] / 1e6:.2f}',
              f'{r["frozen_params"] / 1e6:.2f}', f'{r["gflops"]:.1f}', f'{r["median_ms"]:.0f}',
              f'{r["peak_mib"]:.0f}', f'{r["gflop_per_s"]:.1f}', ratio(ours, r, False),
              ratio(ref, r, True)] for r in rows]
    report('network', f'Forward pass, batch 1, fp32, {args.device}, median of {args.repeat}; machine: {info}',
           ['model', 'size', 'trainable M', 'frozen M', 'GFLOPs', 'median ms', 'peak MiB', 'GFLOP/s',
            'time vs perceive_ir', 'speed vs reference'], cells, {'machine': info, 'rows': rows})


if __name__ == '__main__':
    main()

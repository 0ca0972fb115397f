"""bf16 autocast on the CPU against fp32, on a trained model (the demo's), in one run.

    python benchmarks/cpu_bf16.py --weights experiments/demo_perceive_ir/restorer.pth [--repeat 3]

The demo's held-out photo degraded by each task (its fixed seeds, sigma 25 for noise) is
restored in fp32 and with ``half='bf16'`` (refused on a CPU without native bf16); the table
gives each precision's median time per image, their ratio, and the PSNR against the clean
photo with the change bf16 makes.  Writes benchmarks/results/cpu_bf16.{json,md}.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _common import DEMO_TASKS, eval_set, machine, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--weights', default='experiments/demo_perceive_ir/restorer.pth')
    parser.add_argument('--photos', default='data/samples/test')
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()

    import torch

    from perceive_ir_arch import create_restorer
    from perceive_ir_arch.inference.evaluation import psnr
    from perceive_ir_arch.utils.device import cpu_bf16_feature

    feature = cpu_bf16_feature()
    restorers = {'fp32': create_restorer(args.weights, device='cpu'),
                 'bf16': create_restorer(args.weights, device='cpu', half='bf16')}
    rows, data = [], {'machine': machine(), 'cpu_bf16': feature, 'weights': args.weights, 'tasks': {}}
    totals = {'fp32': 0.0, 'bf16': 0.0}
    for task in DEMO_TASKS:
        sample = eval_set(task, args.photos)[0]
        lq, gt = sample['lq'][None], sample['gt'].permute(1, 2, 0).numpy()
        result = {}
        for name, restorer in restorers.items():
            times = []
            for _ in range(args.repeat + 1):  # the first run warms up
                start = time.perf_counter()
                out = restorer.restore_tensor(lq)
                times.append(time.perf_counter() - start)
            image = out[0].permute(1, 2, 0).numpy()
            result[name] = {'seconds': statistics.median(times[1:]), 'psnr': psnr(image, gt), 'out': image}
            totals[name] += result[name]['seconds']
        diff = float(np.abs(result['bf16']['out'] - result['fp32']['out']).max())
        data['tasks'][task] = {k: {'seconds': v['seconds'], 'psnr': v['psnr']} for k, v in result.items()}
        data['tasks'][task]['max_abs_difference'] = diff
        rows.append([task, f"{result['fp32']['seconds']:.3f}", f"{result['bf16']['seconds']:.3f}",
                     f"{result['bf16']['seconds'] / result['fp32']['seconds']:.2f}",
                     f"{result['fp32']['psnr']:.2f}", f"{result['bf16']['psnr']:.2f}",
                     f"{result['bf16']['psnr'] - result['fp32']['psnr']:+.3f}", f'{diff:.1e}'])
    rows.append(['all', f"{totals['fp32']:.3f}", f"{totals['bf16']:.3f}", f"{totals['bf16'] / totals['fp32']:.2f}",
                 '', '', '', ''])
    data['ratio'] = totals['bf16'] / totals['fp32']
    report('cpu_bf16', f'bf16 autocast vs fp32 on the CPU ({feature}, {torch.get_num_threads()} threads), '
           f'{args.weights}, median of {args.repeat}', ['task', 'fp32 s', 'bf16 s', 'bf16 / fp32', 'fp32 PSNR',
                                                      'bf16 PSNR', 'change dB', 'max |diff|'], rows, data)


if __name__ == '__main__':
    main()

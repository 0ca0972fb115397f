"""Why a trained demo model's deblur row moves: sharpening, or a change of tone?

    python benchmarks/blur_row.py                      # the model `make demo` trained
    python benchmarks/blur_row.py --checkpoint PATH --param-key params

For each photo (held out, then training), degraded with the demo's motion blur at its
fixed evaluation seed: PSNR of the input, of the output, and of the output with its
global tone change undone: per channel, the least-squares fit out ~ a * lq + b is
measured and out - (a - 1) * lq - b kept, so what is left is the local (sharpening)
part of what the network did.  Also the fitted gain a and offset b (levels), and which
task the degradation vector z of the whole photo is nearest to, among the task centroids
of z over 48 px tiles of the training photos: a blurred photo whose z sits nearest the
haze centroid is being dehazed.  Last, the clean photo put through the network: its
output's PSNR against it and the same tone fit (a tone change that the clean photo gets
too is set by the content, not by the blur).  Written to benchmarks/results/blur_row.{json,md}.
"""
from __future__ import annotations

import argparse
import os

from _common import DEMO_TASKS as TASKS, eval_set, machine, report, tile_vectors

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tone_fit(lq, out):
    """Per channel (a, b) of the least-squares fit out ~ a * lq + b."""
    import torch

    fits = []
    for c in range(lq.shape[1]):
        x, y = lq[0, c].flatten().double(), out[0, c].flatten().double()
        design = torch.stack([x, torch.ones_like(x)], 1)
        a, b = torch.linalg.lstsq(design, y[:, None]).solution.flatten().tolist()
        fits.append((a, b))
    return fits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--options', default='options/demo/train_demo.yml', help='builds the network (network_g)')
    parser.add_argument('--checkpoint', default='experiments/demo_perceive_ir/models/net_g_latest.pth')
    parser.add_argument('--param-key', default='params_ema')
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F
    import yaml
    from basicsr.archs import build_network

    import perceive_ir_arch  # noqa: F401
    from perceive_ir_arch.metrics import batch_psnr

    os.chdir(REPO)
    with open(args.options) as f:
        net = build_network(yaml.safe_load(f)['network_g'])
    net.load_state_dict(torch.load(args.checkpoint, map_location='cpu', weights_only=True)[args.param_key])
    net.eval()

    with torch.no_grad():
        tiles = tile_vectors(net, 'data/samples/train')
        centroids = torch.stack([F.normalize(tiles[t].mean(0), dim=0) for t in TASKS])
        rows, cells = {}, []
        for split, root in (('held out', 'data/samples/test'), ('training', 'data/samples/train')):
            for sample in eval_set('deblur', root):
                lq, gt = sample['lq'][None], sample['gt'][None]
                out = net(lq).clamp(0, 1)
                fits = _tone_fit(lq, out)
                gain = torch.tensor([a for a, _ in fits])[None, :, None, None]
                offset = torch.tensor([b for _, b in fits])[None, :, None, None]
                local = (out - (gain - 1) * lq - offset).clamp(0, 1)
                nearest = TASKS[int((net.degradation_vector(lq) @ centroids.t()).argmax())]
                # the same tone change on the clean photo: the content sets it, not the blur
                clean_out = net(gt).clamp(0, 1)
                clean_fits = _tone_fit(gt, clean_out)
                name = os.path.splitext(os.path.basename(sample['gt_path']))[0]
                row = {'split': split, 'input_psnr': float(batch_psnr(lq, gt)), 'psnr': float(batch_psnr(out, gt)),
                       'local_only_psnr': float(batch_psnr(local, gt)),
                       'gain': [a for a, _ in fits], 'offset_levels': [b * 255 for _, b in fits], 'z_nearest': nearest,
                       'clean_in_psnr': float(batch_psnr(clean_out, gt)), 'clean_in_gain': [a for a, _ in clean_fits],
                       'clean_in_offset_levels': [b * 255 for _, b in clean_fits]}
                rows[name] = row
                cells.append([f'{name} ({split})', f"{row['input_psnr']:.2f}", f"{row['psnr']:.2f}",
                              f"{row['local_only_psnr']:.2f}", ' '.join(f'{a:.3f}' for a in row['gain']),
                              ' '.join(f'{b:+.1f}' for b in row['offset_levels']), nearest,
                              f"{row['clean_in_psnr']:.2f}",
                              ' '.join(f'{a:.3f}' for a in row['clean_in_gain']) + ' / '
                              + ' '.join(f'{b:+.1f}' for b in row['clean_in_offset_levels'])])
    report('blur_row', f'The deblur row of `{args.checkpoint}` ({args.param_key}), per photo: PSNR of the blurred '
           'input, of the output, and of the output with its global per-channel tone change (gain, offset in '
           'levels; RGB) undone; the task whose z centroid the whole photo is nearest to; the clean photo put '
           'through the network: PSNR of the output against it, and the same tone fit.',
           ['photo', 'input dB', 'output dB', 'output, tone change undone, dB', 'gain R G B',
            'offset R G B', 'z nearest', 'clean photo in: output dB', 'clean photo in: gain / offset'],
           cells, {'checkpoint': args.checkpoint, 'rows': rows, 'machine': machine()})


if __name__ == '__main__':
    main()

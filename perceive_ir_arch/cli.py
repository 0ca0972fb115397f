"""The ``perceive-ir`` command.

    perceive-ir score IMG|DIR... --prompts PROMPTS.pth --clip-weights ViT-B-32.pt [--csv F] [--json F]

``score`` rates images with the stage-1 quality perceiver, a no-reference quality
measure: p(terrible), p(mediocre), p(excellent) and their expected tier (0 to 2).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from typing import Sequence

__all__ = ['main']


def _device(name: str):
    import torch

    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('perceive-ir: --device cuda, but no CUDA device is available')
    return torch.device(name)


def _expand(inputs: Sequence[str]) -> list[str]:
    """Files as given; folders scanned (sorted, recursive) for images."""
    from perceive_ir_arch.data._files import IMAGE_EXTENSIONS

    paths = []
    for item in inputs:
        if os.path.isdir(item):
            for dirpath, dirnames, files in os.walk(item):
                dirnames.sort()
                paths += [os.path.join(dirpath, f) for f in sorted(files)
                          if os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS]
        else:
            paths.append(item)
    return paths


def _score(args: argparse.Namespace) -> int:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from tqdm import tqdm

    from perceive_ir_arch.archs import QUALITY_TIERS, CLIPQualityPerceiver
    from perceive_ir_arch.data._files import decode_image
    from perceive_ir_arch.utils import atomic_write_text

    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    if args.clip_weights is None and args.clip_model != 'clip_tiny':
        raise SystemExit(f'perceive-ir score: --clip-weights FILE is required for {args.clip_model} '
                         '(OpenAI ViT-B-32.pt); this tool never downloads')
    try:
        perceiver = CLIPQualityPerceiver(args.clip_model, args.clip_weights, prompt_file=args.prompts)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise SystemExit(f'perceive-ir score: {exc}') from None
    device = _device(args.device)
    perceiver = perceiver.to(device).eval()
    with torch.no_grad():
        text = perceiver.text_features()

    paths = _expand(args.inputs)
    if not paths:
        raise SystemExit('perceive-ir score: no images found in ' + ', '.join(args.inputs))
    rows, failed = [], []
    batch: list[tuple[str, torch.Tensor]] = []

    def flush() -> None:
        if not batch:
            return
        x = torch.cat([t for _, t in batch]).to(device)
        with torch.no_grad():
            p = perceiver.logits(x, text=text).softmax(-1).cpu().numpy()
        for (path, _), probs in zip(batch, p):
            rows.append({'path': path, **{f'p_{t}': float(v) for t, v in zip(QUALITY_TIERS, probs)},
                         'score': float(np.dot(probs, np.arange(len(probs))))})
        batch.clear()

    for path in tqdm(paths, desc='scoring', unit='img', disable=args.quiet or len(paths) < 2):
        try:
            with open(path, 'rb') as f:
                img = decode_image(f.read(), path)
        except OSError as exc:
            failed.append((path, str(exc)))
            continue
        t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None]
        # resize here, one image at a time: any size goes into one batch
        batch.append((path, F.interpolate(t, size=perceiver.image_size, mode='bicubic',
                                          align_corners=False, antialias=True).clamp(0, 1)))
        if len(batch) == args.batch_size:
            flush()
    flush()

    fields = ['path'] + [f'p_{t}' for t in QUALITY_TIERS] + ['score']
    width = max([len(r['path']) for r in rows] + [4])
    print(f'{"path":<{width}}  ' + '  '.join(f'{f:>12}' for f in fields[1:]))
    for r in rows:
        print(f'{r["path"]:<{width}}  ' + '  '.join(f'{r[f]:12.4f}' for f in fields[1:]))
    if args.csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(args.csv, buf.getvalue())
    if args.json:
        atomic_write_text(args.json, json.dumps(rows, indent=2) + '\n')
    for path, why in failed:
        print(f'skipped {path}: {why}', file=sys.stderr)
    print(f'{len(rows)} scored, {len(failed)} skipped', file=sys.stderr)
    return 1 if failed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='perceive-ir', description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    score = sub.add_parser('score', help='no-reference quality with the stage-1 perceiver')
    score.add_argument('inputs', nargs='+', help='image files or folders')
    score.add_argument('--prompts', required=True, help='stage-1 checkpoint (the prompt context)')
    score.add_argument('--clip-model', default='ViT-B-32', help='open_clip architecture (default ViT-B-32)')
    score.add_argument('--clip-weights', default=os.environ.get('PERCEIVE_IR_CLIP'),
                       help='local CLIP weight file (default: $PERCEIVE_IR_CLIP)')
    score.add_argument('--batch-size', type=int, default=16)
    score.add_argument('--device', default='auto', choices=['auto', 'cpu', 'cuda'])
    score.add_argument('--csv', help='also write the table as CSV')
    score.add_argument('--json', help='also write the table as JSON')
    score.add_argument('--quiet', action='store_true', help='no progress bar')
    score.set_defaults(run=_score)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


if __name__ == '__main__':
    sys.exit(main())

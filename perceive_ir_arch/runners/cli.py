"""The ``perceive-ir`` command: restore, score, pack and export.

    perceive-ir restore IN... -o OUT --weights W [--tile N] [--device auto|cpu|cuda] [--half]
    perceive-ir score IMG|DIR... --prompts PROMPTS.pth [--clip-weights ViT-B-32.pt] [--csv F]
    perceive-ir pack --checkpoint net_g_latest.pth --opt OPTIONS.yml -o restorer.pth   (--opt: BasicSR files only)
    perceive-ir export --weights W --onnx OUT.onnx [--check]

``restore`` restores photos of any size; ``score`` rates images with the stage-1
quality perceiver (p(terrible), p(mediocre), p(excellent) and their expected tier);
``pack`` turns a BasicSR checkpoint and its option file into one restorer file;
``export`` writes ONNX and checks it with onnxruntime.
Pretrained parts not named on the command line are looked up in $PERCEIVE_IR_WEIGHTS
(default ~/.cache/perceive_ir), then in the caches of the Hugging Face hub, torch hub
and OpenAI's clip (``perceive_ir_arch.pretrained.locate``); nothing is downloaded.
"""
from __future__ import annotations

import argparse
import csv
import glob
import io
import json
import os
import sys
import time
from typing import Sequence

__all__ = ['main']

_FLAGS = {'weights': '--weights', 'opt': '--opt', 'semantic_weights': '--semantic-weights'}


def _device(name: str, command: str):
    from perceive_ir_arch.utils.device import select_device

    try:
        return select_device(name)
    except (RuntimeError, ValueError) as exc:
        raise SystemExit(f'perceive-ir {command}: {exc}') from None


def _collect(inputs: Sequence[str]) -> list[tuple[str, str]]:
    """(path, name relative to its input) for files as given, globs, and folders scanned
    recursively (sorted) for images."""
    from perceive_ir_arch.utils.image_io import IMAGE_EXTENSIONS

    found = []
    for item in inputs:
        if os.path.isdir(item):
            for dirpath, dirnames, files in os.walk(item):
                dirnames.sort()
                found += [(os.path.join(dirpath, f), os.path.relpath(os.path.join(dirpath, f), item))
                          for f in sorted(files) if os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS]
        elif not os.path.exists(item) and glob.has_magic(item):
            found += [(p, os.path.basename(p)) for p in sorted(glob.glob(item, recursive=True))
                      if os.path.isfile(p)]
        else:
            found.append((item, os.path.basename(item)))
    return found


def _expand(inputs: Sequence[str]) -> list[str]:
    return [path for path, _ in _collect(inputs)]


def _restore(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from perceive_ir_arch.inference import Restorer, network_from_file
    from perceive_ir_arch.utils.image_io import read_photo, write_photo

    jobs = _collect(args.inputs)
    if not jobs:
        raise SystemExit('perceive-ir restore: no images found in ' + ', '.join(args.inputs))
    targets: dict[str, str] = {}
    for path, rel in jobs:
        out = os.path.join(args.output, os.path.splitext(rel)[0] + args.suffix + os.path.splitext(rel)[1])
        if out in targets:
            raise SystemExit(f'perceive-ir restore: {targets[out]!r} and {path!r} would both be '
                             f'written to {out!r}; restore them into different folders')
        if os.path.exists(out) and os.path.samefile(out, path):
            raise SystemExit(f'perceive-ir restore: the output {out!r} is the input itself; '
                             'choose another -o folder or a --suffix')
        targets[out] = path
    try:
        net = network_from_file(args.weights, args.opt, args.semantic_weights, args.param_key, _FLAGS)
        restorer = Restorer(net, _device(args.device, 'restore'), args.half, args.tile,
                            args.tile_overlap, args.max_memory, args.protocol)
    except (OSError, ValueError, KeyError) as exc:
        raise SystemExit(f'perceive-ir restore: {exc}') from None

    start, done, existing, skipped = time.perf_counter(), 0, 0, []
    bar = tqdm(targets.items(), desc='restoring', unit='img', disable=args.quiet)
    for out, path in bar:
        if args.skip_existing and os.path.exists(out):
            existing += 1  # asked for: not a failure
            continue
        try:
            img = read_photo(path)
            tiles = restorer.count_tiles(*img.shape[:2])
            with tqdm(total=tiles, desc=os.path.basename(path), unit='tile', leave=False,
                      disable=args.quiet or tiles < 2) as tile_bar:
                restored = restorer.restore(img, progress=tile_bar.update)
            write_photo(out, restored)
            done += 1
        except (OSError, ValueError) as exc:
            skipped.append((path, str(exc)))
        except RuntimeError as exc:  # out of memory on one image: the others may still fit
            if 'out of memory' not in str(exc).lower():
                raise
            skipped.append((path, 'out of memory; try --tile 512 or a smaller --max-memory'))
    seconds = time.perf_counter() - start
    for path, why in skipped:
        print(f'skipped {path}: {why}', file=sys.stderr)
    kept = f', {existing} already there (--skip-existing)' if existing else ''
    print(f'restored {done} image(s) in {seconds:.1f} s into {args.output}; skipped {len(skipped)}{kept}',
          file=sys.stderr)
    return 1 if skipped else 0  # 1: an input could not be restored


def _pack(args: argparse.Namespace) -> int:
    from perceive_ir_arch.inference import network_from_file, read_options, save_restorer

    try:
        # a BasicSR checkpoint needs --opt; restorer and release files say what they are
        network_opt = read_options(args.opt)['network_g'] if args.opt is not None else None
        net = network_from_file(args.checkpoint, args.opt, args.semantic_weights, args.param_key,
                           dict(_FLAGS, weights='--checkpoint'))
        save_restorer(args.output, net, network_opt)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f'perceive-ir pack: {exc}') from None
    print(f'wrote {args.output} ({os.path.getsize(args.output) / 2 ** 20:.1f} MiB, '
          f'{type(net).__name__})', file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    import numpy as np

    from perceive_ir_arch.inference.export import export_onnx, onnx_max_difference
    from perceive_ir_arch.inference import network_from_file
    from perceive_ir_arch.utils.image_io import read_photo, rgb_float

    try:
        net = network_from_file(args.weights, args.opt, args.semantic_weights, args.param_key, _FLAGS)
    except (OSError, ValueError, KeyError) as exc:
        raise SystemExit(f'perceive-ir export: {exc}') from None
    export_onnx(net, args.onnx, opset=args.opset)
    print(f'wrote {args.onnx} (ONNX opset {args.opset}; input "image", output "restored", '
          'N x 3 x height x width in [0, 1])', file=sys.stderr)
    if args.check:
        rng = np.random.default_rng(0)
        images = {'random 61x83': rng.random((61, 83, 3), dtype=np.float32),
                  'random 128x96': rng.random((128, 96, 3), dtype=np.float32)}
        for path in args.check_images:
            images[path] = rgb_float(read_photo(path))
        diffs = onnx_max_difference(args.onnx, net, list(images.values()))
        for name, diff in zip(images, diffs):
            print(f'onnxruntime vs PyTorch, {name}: max abs difference {diff:.2e}')
        if max(diffs) > args.tolerance:
            print(f'perceive-ir export: difference above --tolerance {args.tolerance}', file=sys.stderr)
            return 1
    return 0


def _score(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from perceive_ir_arch.utils.image_io import decode_image
    from perceive_ir_arch.inference.scoring import create_scorer
    from perceive_ir_arch.utils import atomic_write_text

    try:
        scorer = create_scorer(args.prompts, clip_model=args.clip_model, clip_weights=args.clip_weights,
                               device=_device(args.device, 'score'), batch_size=args.batch_size,
                               flag='--clip-weights')
    except (OSError, ValueError, KeyError) as exc:
        raise SystemExit(f'perceive-ir score: {exc}') from None
    paths = _expand(args.inputs)
    if not paths:
        raise SystemExit('perceive-ir score: no images found in ' + ', '.join(args.inputs))
    read, failed = [], []

    def images():
        for path in tqdm(paths, desc='scoring', unit='img', disable=args.quiet or len(paths) < 2):
            try:
                with open(path, 'rb') as f:
                    img = decode_image(f.read(), path)
            except OSError as exc:
                failed.append((path, str(exc)))
                continue
            read.append(path)
            yield img

    rows = [{'path': path, **row} for path, row in zip(read, list(scorer.score_many(images())))]
    fields = ['path'] + [f'p_{t}' for t in scorer.tiers] + ['score']
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


def _add_weights(parser: argparse.ArgumentParser, flag: str = '--weights') -> None:
    parser.add_argument(flag, required=True,
                        help="restorer file (perceive-ir pack), a file of the authors' release "
                        '(AIO-3D.pth, or its name perceive_ir_3task), or BasicSR net_g_*.pth with --opt')
    parser.add_argument('--opt', help='the option file whose network_g built a BasicSR checkpoint')
    parser.add_argument('--param-key', help='which entry of a BasicSR checkpoint '
                        '(default params_ema, else params)')
    parser.add_argument('--semantic-weights', help='DINOv2 weight file (default: the lookup '
                        'rule: $PERCEIVE_IR_WEIGHTS, the HF hub and torch hub caches)')


def _parser() -> argparse.ArgumentParser:
    from perceive_ir_arch.inference.export import OPSET

    parser = argparse.ArgumentParser(prog='perceive-ir', description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)

    restore = sub.add_parser('restore', help='restore photos of any size')
    restore.add_argument('inputs', nargs='+', help='image files, folders or globs')
    restore.add_argument('-o', '--output', required=True, help='output folder (same names, format, bit depth)')
    _add_weights(restore)
    restore.add_argument('--device', default='auto', help='auto (default), cpu, cuda or cuda:N')
    restore.add_argument('--half', nargs='?', const='bf16', choices=['bf16', 'fp16'],
                         help='autocast on a GPU: bf16 (default when given) or fp16')
    restore.add_argument('--tile', type=int, help='tile size in pixels (default: only when needed)')
    restore.add_argument('--tile-overlap', type=int, default=32, help='overlap of tiles (default 32)')
    restore.add_argument('--max-memory', help='memory budget that decides automatic tiling, e.g. 2G '
                         '(default 2G on CPU, 80%% of the free GPU memory)')
    restore.add_argument('--protocol', default='whole_image', choices=['whole_image', 'release'],
                         help="whole_image (default): tiles guided by the whole image and blended; "
                         "release: the authors' evaluator (256-px tiles, 32 overlap, each guided by "
                         'itself, averaged, bf16 on a GPU)')
    restore.add_argument('--suffix', default='', help='added to each output name before the extension')
    restore.add_argument('--skip-existing', action='store_true', help='leave outputs that exist')
    restore.add_argument('--quiet', action='store_true', help='no progress bars')
    restore.set_defaults(run=_restore)

    score = sub.add_parser('score', help='no-reference quality with the stage-1 perceiver')
    score.add_argument('inputs', nargs='+', help='image files, folders or globs')
    score.add_argument('--prompts', required=True, help="stage-1 prompt file: this project's checkpoint, the "
                       "authors' quality_prompts_100000.pth, or its name perceive_ir_prompts")
    score.add_argument('--clip-model', default='ViT-B-32', help='open_clip architecture (default ViT-B-32)')
    score.add_argument('--clip-weights',
                       help='CLIP weight file, e.g. OpenAI ViT-B-32.pt (default: the lookup rule: '
                       '$PERCEIVE_IR_WEIGHTS, the HF hub cache, ~/.cache/clip)')
    score.add_argument('--batch-size', type=int, default=16)
    score.add_argument('--device', default='auto', help='auto (default), cpu, cuda or cuda:N')
    score.add_argument('--csv', help='also write the table as CSV')
    score.add_argument('--json', help='also write the table as JSON')
    score.add_argument('--quiet', action='store_true', help='no progress bar')
    score.set_defaults(run=_score)

    pack = sub.add_parser('pack', help="a BasicSR checkpoint + its options, or an authors' file -> one restorer file")
    _add_weights(pack, '--checkpoint')
    pack.add_argument('-o', '--output', required=True, help='restorer file to write')
    pack.set_defaults(run=_pack)

    export = sub.add_parser('export', help='ONNX of a restorer, checked with onnxruntime')
    _add_weights(export)
    export.add_argument('--onnx', required=True, help='write ONNX here')
    export.add_argument('--opset', type=int, default=OPSET, help=f'ONNX opset (default {OPSET})')
    export.add_argument('--check', action='store_true', help='compare onnxruntime with PyTorch')
    export.add_argument('--check-images', nargs='*', default=[], help='real images for --check')
    export.add_argument('--tolerance', type=float, default=1e-3,
                        help='largest accepted difference for --check (default 1e-3)')
    export.set_defaults(run=_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


if __name__ == '__main__':
    sys.exit(main())

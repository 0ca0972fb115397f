"""The ``perceive-ir`` command: restore, score, pack, export, models and evaluate.

    perceive-ir restore IN... -o OUT --weights W [--tile N] [--device auto|cpu|cuda] [--half]
    perceive-ir score IMG|DIR... --prompts PROMPTS.pth [--clip-weights ViT-B-32.pt] [--csv F]
    perceive-ir pack --checkpoint net_g_latest.pth --opt OPTIONS.yml -o restorer.pth   (--opt: BasicSR files only)
    perceive-ir export --weights W --onnx OUT.onnx [--check]
    perceive-ir models [-v]
    perceive-ir evaluate --models M... [--data datasets/test] [--benchmarks 3task] [--protocol publisher|common]

``restore`` restores photos of any size; ``score`` rates images with the stage-1
quality perceiver (p(terrible), p(mediocre), p(excellent) and their expected tier);
``pack`` turns a BasicSR checkpoint and its option file into one restorer file;
``export`` writes ONNX and checks it with onnxruntime; ``models`` lists the restorers
runnable by name (``--weights NAME``); ``evaluate`` compares several on the same benchmarks.
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

import numpy as np
from tqdm import tqdm

from ..pretrained import PRETRAINED_PARTS, find_published, resolve_weights, weights_dir
from ..utils.device import half_refusal, select_device
from ..utils.errors import user_errors
from ..utils.files import atomic_imwrite, atomic_write_text
from ..utils.image_io import IMAGE_EXTENSIONS, WRITABLE_EXTENSIONS, probe_photo, read_photo, rgb_float, write_photo
from ..zoo import MODELS
from .evaluation import comparison_figure, evaluate
from .export import OPSET, export_onnx, onnx_max_difference
from .output_folder import OutputFolder, output_path, recorded_outputs, weights_identity
from .restorer import Restorer
from .restorer_file import network_from_file, read_options, save_restorer
from .scoring import create_scorer

__all__ = ['main', 'DEFAULT_MAX_PIXELS']

# above every single-shot camera (the largest phone sensors give 200 MP), far below what
# a crafted header can claim
DEFAULT_MAX_PIXELS = 300_000_000

_FLAGS = {'weights': '--weights', 'opt': '--opt', 'semantic_weights': '--semantic-weights'}


def _collect(inputs: Sequence[str], skip: str | None = None) -> list[tuple[str, str]]:
    """(path, name relative to its input) for files as given, globs, and folders scanned
    recursively (sorted) for images; the folder ``skip`` (the output folder) is not scanned."""
    found = []
    skip = os.path.realpath(skip) if skip else None
    for item in inputs:
        if os.path.isdir(item):
            for dirpath, dirnames, files in os.walk(item):
                dirnames[:] = sorted(d for d in dirnames
                                     if os.path.realpath(os.path.join(dirpath, d)) != skip)
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


def _max_pixels(text: str | None) -> int | None:
    """--max-pixels: '300M', '5e8', 0 or none (no limit)."""
    if text is None:
        return DEFAULT_MAX_PIXELS
    if str(text).lower() in ('0', 'none'):
        return None
    units = {'K': 1e3, 'M': 1e6, 'G': 1e9}
    s = str(text).strip().upper()
    try:
        value = float(s[:-1]) * units[s[-1]] if s[-1:] in units else float(s)
    except ValueError:
        raise SystemExit(f'perceive-ir: --max-pixels {text!r}: expected a number of pixels, e.g. 300M, '
                         'or none') from None
    return int(value)


def _restore(args: argparse.Namespace) -> int:
    max_pixels = _max_pixels(args.max_pixels)
    candidates = _collect(args.inputs, skip=args.output)
    written_before = recorded_outputs(path for path, _ in candidates)
    jobs = [(path, rel) for path, rel in candidates if os.path.abspath(path) not in written_before]
    if not jobs:
        raise SystemExit('perceive-ir restore: no images found in ' + ', '.join(args.inputs)
                         + (f' (left out {len(written_before)} outputs of earlier perceive-ir runs)'
                            if written_before else ''))
    ext = f'.{args.format}' if args.format else None
    targets: dict[str, str] = {}
    for path, rel in jobs:
        out = output_path(args.output, rel, args.suffix, ext)
        if out in targets:
            raise SystemExit(f'perceive-ir restore: {targets[out]!r} and {path!r} would both be '
                             f'written to {out!r}; restore them into different folders')
        if os.path.exists(out) and os.path.samefile(out, path):
            raise SystemExit(f'perceive-ir restore: the output {out!r} is the input itself; '
                             'choose another -o folder or a --suffix')
        targets[out] = path
    device = select_device(args.device)
    refusal = half_refusal(device, args.half)
    if refusal:  # before the network is read
        raise SystemExit(f'perceive-ir restore: --half {args.half} on {device}: {refusal}')
    entry = MODELS.get(args.weights) if not os.path.isfile(args.weights) else None
    weights = resolve_weights(entry.weights if entry is not None else args.weights, '--weights')
    net = network_from_file(args.weights, args.opt, args.semantic_weights, args.param_key, _FLAGS)
    restorer = Restorer(net, device, args.half, args.tile, args.tile_overlap, args.max_memory,
                        args.protocol or (entry.protocol.restore if entry is not None else 'whole_image'))
    if args.task is not None:
        restorer.set_task(args.task)
    elif restorer.needs_task():
        raise SystemExit(f'perceive-ir restore: {args.weights} restores with a vector per task: add --task')
    sizes = {path: probe_photo(path) if os.path.isfile(path) else None for path in targets.values()}
    _estimate(restorer, sizes, args.quiet)

    start, done, existing, skipped = time.perf_counter(), 0, 0, []
    with OutputFolder(args.output, weights_identity(weights), args.overwrite) as folder:
        bar = tqdm(targets.items(), desc='restoring', unit='img', disable=args.quiet)
        for out, path in bar:
            if args.skip_existing and os.path.exists(out):
                existing += 1  # asked for: not a failure
                continue
            try:
                if os.path.splitext(out)[1].lower() not in WRITABLE_EXTENSIONS:
                    raise ValueError(f'{os.path.splitext(out)[1]} files are read but cannot be written '
                                     '(no encoder); add --format png to write it as PNG')
                img = read_photo(path, max_pixels)
                tiles = restorer.count_tiles(*img.shape[:2])
                with tqdm(total=tiles, desc=os.path.basename(path), unit='tile', leave=False,
                          disable=args.quiet or tiles < 2) as tile_bar:
                    restored = restorer.restore(img, progress=tile_bar.update)
                write_photo(out, restored)
                folder.record(out)
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
    left = f', left out {len(written_before)} outputs of earlier runs' if written_before else ''
    print(f'restored {done} image(s) in {seconds:.1f} s into {args.output}; skipped {len(skipped)}{kept}{left}',
          file=sys.stderr)
    return 1 if skipped else 0  # 1: an input could not be restored


def _models(args: argparse.Namespace) -> int:
    """Every model of the table: tasks, protocol, published numbers, and where its file is."""
    rows = []
    for entry in MODELS.values():
        part = PRETRAINED_PARTS[entry.weights]
        found = find_published(part)
        published = (', '.join(f'{k} {v[0]:.2f}' for k, v in entry.published.results.items())
                     if entry.published else '-')
        rows.append({'model': entry.name, 'tasks': '+'.join(entry.tasks), 'protocol': entry.protocol.name,
                     'file': found or f'missing: {part.published_name()} into {weights_dir()} (from {part.urls[0]})',
                     'published': published, 'title': entry.title})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    width = max(len(r['model']) for r in rows)
    for r in rows:
        print(f"{r['model']:<{width}}  {r['tasks']:<38} {r['protocol']:<11} {r['file']}")
        if args.verbose:
            print(f"{'':<{width}}  {r['title']}; published: {r['published']}")
    print(f'{len(rows)} models; files are looked for in $PERCEIVE_IR_WEIGHTS and the usual caches '
          '(docs/pretrained.md)', file=sys.stderr)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    box = None
    if args.crop:
        try:
            box = tuple(int(v) for v in args.crop.split(','))
            assert len(box) == 3
        except (ValueError, AssertionError):
            raise SystemExit(f'perceive-ir evaluate: --crop {args.crop!r}: expected x,y,size, e.g. 40,60,96') from None
    device = select_device(args.device)
    result, shown = evaluate(args.models, args.data, args.benchmarks or None, args.protocol, device, args.half,
                             figure=args.figure, progress=not args.quiet)
    print(result.markdown())
    written = result.write(args.output)
    for key, images in shown.items():
        if images:
            path = os.path.join(args.output, 'figure_' + key.replace('/', '_') + '.png')
            atomic_imwrite(path, comparison_figure(images, args.models, box))
            written.append(path)
    print('wrote ' + ', '.join(written), file=sys.stderr)
    return 0


def _estimate(restorer, sizes: dict, quiet: bool) -> None:
    """Before a long run: how many tiles, and the host memory the largest image takes."""
    known = [info for info in sizes.values() if info is not None]
    if not known or quiet:
        return
    tiles = sum(restorer.count_tiles(info.height, info.width) for info in known)
    largest = max(known, key=lambda info: info.width * info.height)
    # the image as floats, the output and the blending weights stay in host memory
    host = largest.width * largest.height * 4 * 7
    if tiles > len(known) or host > 2 ** 30:
        pixels = sum(info.width * info.height for info in known)
        memory = f'{host / 2 ** 30:.1f} GiB' if host >= 2 ** 30 else f'{host / 2 ** 20:.0f} MiB'
        print(f'{len(sizes)} image(s), {pixels / 1e6:.2f} MP in all, {tiles} network passes on '
              f'{restorer.device}; the largest ({largest.width} x {largest.height}) takes about '
              f'{memory} of host memory', file=sys.stderr)


def _pack(args: argparse.Namespace) -> int:
    flags = dict(_FLAGS, weights='--checkpoint')
    net = network_from_file(args.checkpoint, args.opt, args.semantic_weights, args.param_key, flags)
    # a BasicSR checkpoint needs --opt; restorer and release files say what they are
    network_opt = read_options(args.opt, '--opt')['network_g'] if args.opt is not None else None
    save_restorer(args.output, net, network_opt)
    print(f'wrote {args.output} ({os.path.getsize(args.output) / 2 ** 20:.1f} MiB, '
          f'{type(net).__name__})', file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:


    net = network_from_file(args.weights, args.opt, args.semantic_weights, args.param_key, _FLAGS)
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



    scorer = create_scorer(args.prompts, clip_model=args.clip_model, clip_weights=args.clip_weights,
                           device=select_device(args.device), batch_size=args.batch_size,
                           flag='--clip-weights', prompts_flag='--prompts')
    paths = _expand(args.inputs)
    if not paths:
        raise SystemExit('perceive-ir score: no images found in ' + ', '.join(args.inputs))
    read, failed = [], []

    def images():
        for path in tqdm(paths, desc='scoring', unit='img', disable=args.quiet or len(paths) < 2):
            try:
                img = np.clip(rgb_float(read_photo(path, _max_pixels(args.max_pixels))), 0.0, 1.0)
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


def _add_max_pixels(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--max-pixels', help=f'refuse images above this many pixels, read from the header '
                        f'before decoding (default {DEFAULT_MAX_PIXELS // 10 ** 6}M; none: no limit)')


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='perceive-ir', description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)

    restore = sub.add_parser('restore', help='restore photos of any size')
    restore.add_argument('inputs', nargs='+', help='image files, folders or globs')
    restore.add_argument('-o', '--output', required=True, help='output folder (same names, format, bit depth)')
    _add_weights(restore)
    restore.add_argument('--device', default='auto', help='auto (default), cpu, cuda or cuda:N')
    restore.add_argument('--half', nargs='?', const='bf16', choices=['bf16', 'fp16'],
                         help='autocast: bf16 (default when given) or fp16 on a GPU; bf16 on a CPU '
                         'with native bf16 (AVX512_BF16, AMX)')
    restore.add_argument('--tile', type=int, help='tile size in pixels (default: only when needed)')
    restore.add_argument('--tile-overlap', type=int, default=32, help='overlap of tiles (default 32)')
    restore.add_argument('--max-memory', help='memory budget that decides automatic tiling, e.g. 2G '
                         '(default 2G on CPU, 80%% of the free GPU memory)')
    restore.add_argument('--protocol', choices=['whole_image', 'release', 'partition'],
                         help="whole_image: tiles guided by the whole image and blended; release: the "
                         "authors' evaluator (256-px tiles, 32 overlap, each guided by itself, averaged, bf16 on "
                         "a GPU); partition: MambaIR's test. Default: a model's publisher's, else whole_image")
    restore.add_argument('--task', help='the task, for models that take it as an input (instructir_7d)')
    restore.add_argument('--suffix', default='', help='added to each output name before the extension')
    restore.add_argument('--format', choices=['png', 'jpg', 'tif', 'webp', 'bmp'],
                         help='write every output in this format (default: the input\'s own)')
    restore.add_argument('--skip-existing', action='store_true', help='leave outputs that exist')
    restore.add_argument('--overwrite', action='store_true',
                         help='write into an -o folder that holds outputs of other weights')
    _add_max_pixels(restore)
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
    _add_max_pixels(score)
    score.add_argument('--device', default='auto', help='auto (default), cpu, cuda or cuda:N')
    score.add_argument('--csv', help='also write the table as CSV')
    score.add_argument('--json', help='also write the table as JSON')
    score.add_argument('--quiet', action='store_true', help='no progress bar')
    score.set_defaults(run=_score)

    pack = sub.add_parser('pack', help="a BasicSR checkpoint + its options, or an authors' file -> one restorer file")
    _add_weights(pack, '--checkpoint')
    pack.add_argument('-o', '--output', required=True, help='restorer file to write')
    pack.set_defaults(run=_pack)

    models = sub.add_parser('models', help='every restorer runnable by name, and whether its file is here')
    models.add_argument('--verbose', '-v', action='store_true', help='also titles and published numbers')
    models.add_argument('--json', action='store_true', help='as JSON')
    models.set_defaults(run=_models)

    evaluate = sub.add_parser('evaluate', help='several models on the same benchmarks, one table')
    evaluate.add_argument('--models', nargs='+', required=True, help='names (perceive-ir models) or weight files')
    evaluate.add_argument('--data', default='datasets/test', help='the test root (default datasets/test): '
                          'denoise/bsd68, derain/Rain100L, dehaze, deblur/GoPro/test, lowlight/LOL/eval15')
    evaluate.add_argument('--benchmarks', nargs='+', help='names or a suite (3task, 5task); default: every one found')
    evaluate.add_argument('--protocol', default='publisher', choices=['publisher', 'common'],
                          help="publisher (default): each model as its publisher tests it; common: one for all")
    evaluate.add_argument('--device', default='auto', help='auto (default), cpu, cuda or cuda:N')
    evaluate.add_argument('--half', nargs='?', const='bf16', choices=['bf16', 'fp16'],
                          help='bf16 autocast (GPU, or a CPU with native bf16) or fp16 (GPU)')
    evaluate.add_argument('-o', '--output', default='results/evaluate', help='folder of the tables and figures')
    evaluate.add_argument('--figure', nargs='*', default=[], metavar='BENCHMARK/STEM',
                          help='images to show side by side, e.g. Rain100L/1')
    evaluate.add_argument('--crop', help='the crop of the figure: x,y,size (default: the centre half)')
    evaluate.add_argument('--quiet', action='store_true', help='no progress bar')
    evaluate.set_defaults(run=_evaluate)

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
    with user_errors(f'perceive-ir {args.command}'):
        return args.run(args)


if __name__ == '__main__':
    sys.exit(main())

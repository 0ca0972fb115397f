"""The values of a BasicSR option file, checked before anything is built.

BasicSR reads its options where it uses them: ``total_iter: forty`` fails inside its loop,
``batch_size_per_gpu: 0`` inside torch's DataLoader, ``total_iter: -5`` trains nothing and
exits 0, ``save_checkpoint_freq: -1`` saves at every iteration.  ``check_option_values``
reads the whole file first: each key BasicSR's runner, its models and the plugin read is
of a kind (iterations, frequencies, batch sizes, workers, learning rates, sizes), and a
value that is not of its kind stops the run with one line naming the option, the value
and what was expected.  Combinations that do nothing are returned as warnings.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from ..utils.errors import UserError
from ..utils.suggest import did_you_mean
from ..utils.yaml_file import number_text_hint
from ..zoo import named_model

__all__ = ['OptionError', 'check_option_values', 'TOP_LEVEL_KEYS']


class OptionError(UserError, ValueError):
    """An option file that cannot run: the message names the file, the option and the fix."""


@dataclass(frozen=True)
class Kind:
    what: str                                   # "a whole number >= 1", for messages
    accepts: Callable[[Any], bool]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value: Any) -> bool:  # BasicSR files write 5e3 as !!float 5e3: a whole float counts
    return _number(value) and float(value).is_integer()


def _at_least(low: float, whole: bool = True) -> Callable[[Any], bool]:
    return lambda v: (_whole(v) if whole else _number(v)) and v >= low


ITERATIONS = Kind('a whole number of iterations >= 1', _at_least(1))
FREQUENCY = Kind('a whole number of iterations >= 1 (how often)', _at_least(1))
BATCH = Kind('a whole number >= 1', _at_least(1))
WORKERS = Kind('a whole number >= 0 (0: load in the main process)', _at_least(0))
SIZE = Kind('a whole number of pixels >= 1', _at_least(1))
POSITIVE = Kind('a number > 0', lambda v: _number(v) and v > 0)
NON_NEGATIVE = Kind('a number >= 0', lambda v: _number(v) and v >= 0)
WARMUP = Kind('a whole number >= -1 (-1: no warm-up)', _at_least(-1))
DECAY = Kind('a number in [0, 1)', lambda v: _number(v) and 0 <= v < 1)
SEED = Kind('a whole number >= 0 or ~', lambda v: v is None or (_whole(v) and v >= 0))
GPUS = Kind("a whole number >= 0 or 'auto'", lambda v: v == 'auto' or (_whole(v) and v >= 0))
TEXT = Kind('a text', lambda v: isinstance(v, str) and bool(v.strip()))
FLAG = Kind('true or false', lambda v: isinstance(v, bool))
BLOCK = Kind('a block of options (key: value lines)', lambda v: isinstance(v, Mapping))
OPTIONAL_BLOCK = Kind('a block of options or ~', lambda v: v is None or isinstance(v, Mapping))
ITERATION_LIST = Kind('a list of whole numbers of iterations >= 1',
                      lambda v: isinstance(v, list) and bool(v) and all(ITERATIONS.accepts(x) for x in v))
NUMBER_LIST = Kind('a list of numbers', lambda v: isinstance(v, list) and all(_number(x) for x in v))
BETAS = Kind('two numbers in [0, 1)', lambda v: isinstance(v, list) and len(v) == 2
             and all(DECAY.accepts(x) for x in v))

# (option path, kind); '*' stands for any one key
_KINDS: tuple[tuple[str, Kind], ...] = (
    ('name', TEXT), ('model_type', TEXT), ('num_gpu', GPUS), ('manual_seed', SEED), ('scale', BATCH),
    ('datasets', BLOCK), ('datasets.*', BLOCK), ('datasets.*.type', TEXT), ('datasets.*.name', TEXT),
    ('datasets.*.batch_size_per_gpu', BATCH), ('datasets.*.num_worker_per_gpu', WORKERS),
    ('datasets.*.dataset_enlarge_ratio', POSITIVE), ('datasets.*.gt_size', SIZE),
    ('datasets.*.io_backend', BLOCK), ('datasets.*.use_shuffle', FLAG),
    ('network_*', BLOCK), ('network_*.type', TEXT), ('path', BLOCK),
    ('train', BLOCK), ('train.total_iter', ITERATIONS), ('train.warmup_iter', WARMUP),
    ('train.ema_decay', DECAY), ('train.accumulate', BATCH),
    ('train.optim_*', BLOCK), ('train.optim_*.type', TEXT), ('train.optim_*.lr', POSITIVE),
    ('train.optim_*.weight_decay', NON_NEGATIVE), ('train.optim_*.betas', BETAS),
    ('train.scheduler', BLOCK), ('train.scheduler.type', TEXT), ('train.scheduler.periods', ITERATION_LIST),
    ('train.scheduler.milestones', ITERATION_LIST), ('train.scheduler.restart_weights', NUMBER_LIST),
    ('train.scheduler.eta_min', NON_NEGATIVE), ('train.scheduler.eta_mins', NUMBER_LIST),
    ('train.scheduler.gamma', POSITIVE),
    ('train.*_opt', OPTIONAL_BLOCK), ('train.*_opt.loss_weight', NON_NEGATIVE),
    ('logger', BLOCK), ('logger.print_freq', FREQUENCY), ('logger.save_checkpoint_freq', FREQUENCY),
    ('logger.use_tb_logger', FLAG),
    ('val', OPTIONAL_BLOCK), ('val.val_freq', FREQUENCY), ('val.save_img', FLAG), ('val.metrics', OPTIONAL_BLOCK),
)

# what must be there: BasicSR reads these without a default
_REQUIRED_TRAIN = ('name', 'model_type', 'num_gpu', 'datasets', 'datasets.train', 'network_g', 'path', 'train',
                   'train.total_iter', 'logger', 'logger.print_freq', 'logger.save_checkpoint_freq')
_REQUIRED_TEST = ('name', 'model_type', 'num_gpu', 'datasets', 'network_g', 'path')

# the top-level keys BasicSR's runner and models read (a typo there is ignored silently)
TOP_LEVEL_KEYS = ('name', 'model_type', 'num_gpu', 'manual_seed', 'scale', 'datasets', 'network_g', 'network_d',
                  'path', 'train', 'val', 'logger', 'dist_params', 'find_unused_parameters', 'use_static_graph',
                  'is_train', 'dist', 'rank', 'world_size', 'auto_resume', 'root_path')


def _walk(node: Any, prefix: str = '') -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            path = f'{prefix}.{key}' if prefix else str(key)
            yield path, value
            yield from _walk(value, path)


def _kind(path: str) -> Kind | None:
    parts = path.split('.')
    for pattern, kind in _KINDS:
        pieces = pattern.split('.')
        if len(pieces) == len(parts) and all(fnmatch.fnmatchcase(p, q) for p, q in zip(parts, pieces)):
            return kind
    return None


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f'{value!r} (text)'
    if value is None:
        return '~ (nothing)'
    return repr(value)


def _get(opt: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = opt
    for key in path.split('.'):
        if not isinstance(node, Mapping) or key not in node:
            return False, None
        node = node[key]
    return True, node


def check_option_values(opt: Any, is_train: bool, where: str) -> list[str]:
    """Raise OptionError for the first option whose value is not of its kind (or a required
    block that is missing); return warnings for combinations that have no effect.
    ``where`` names the option file in messages."""
    if opt is None:
        raise OptionError(f'{where} is empty; expected BasicSR options (name, model_type, datasets, '
                          'network_g, ...; see options/ for examples)')
    if not isinstance(opt, Mapping):
        raise OptionError(f'{where} holds a {type(opt).__name__}, not a block of options (key: value lines)')
    by_name = named_model(opt) is not None and named_model(opt).network is not None
    for path in _REQUIRED_TRAIN if is_train else _REQUIRED_TEST:
        if path == 'network_g' and by_name:  # path.pretrain_network_g names a model of the table
            continue
        found, _ = _get(opt, path)
        if not found:
            phase = 'training' if is_train else 'test'
            raise OptionError(f"{where}: {path} is missing; BasicSR's {phase} runner needs it")
    for path, value in _walk(opt):
        kind = _kind(path)
        if kind is not None and not kind.accepts(value):
            raise OptionError(f'{where}: {path}: expected {kind.what}, got {_shown(value)}'
                              + (f'; {hint}' if (hint := number_text_hint(value)) else ''))
    if is_train and isinstance(opt.get('val'), Mapping) and 'val_freq' not in opt['val']:
        raise OptionError(f'{where}: val.val_freq is missing; training validates every val_freq iterations '
                          '(or remove the val block)')
    return _warnings(opt, is_train, where)


def _warnings(opt: Mapping[str, Any], is_train: bool, where: str) -> list[str]:
    out = []
    for key in opt:
        if key not in TOP_LEVEL_KEYS:
            out.append(f'{where}: {key!r} is not an option BasicSR reads; it has no effect'
                       f'{did_you_mean(str(key), TOP_LEVEL_KEYS)}')
    if not is_train:
        return out
    total = opt['train']['total_iter']
    val_sets = [k for k in opt['datasets'] if str(k).startswith('val')]
    if opt.get('val') and not val_sets:
        out.append(f'{where}: val is set but no datasets.val* block exists: nothing is validated')
    if val_sets and not opt.get('val'):
        out.append(f'{where}: datasets.{val_sets[0]} is never used without a val block (val_freq, metrics)')
    for path in ('logger.save_checkpoint_freq', 'logger.print_freq', 'val.val_freq'):
        found, value = _get(opt, path)
        if found and value is not None and value > total:
            out.append(f'{where}: {path}: {value} is above train.total_iter: {total}: it never comes '
                       'before the end of training')
    return out

"""Train with BasicSR's runner, experiments under the current directory.

    python -m perceive_ir_arch.train -opt options/perceive_ir.yml [--auto_resume] [--launcher pytorch]

The same as BasicSR's ``basicsr/train.py`` except that (a) experiments/ is created in the
current directory, not beside the installed basicsr package, (b) resuming works without
CUDA (BasicSR's own resume maps the state onto ``torch.cuda.current_device()``), (c)
``torchrun ... --launcher pytorch`` works on machines without GPUs (gloo backend), and
(d) a resumed run sees the batches an uninterrupted one would have seen, random crops
and noise included, whatever the number of workers (``data/sampling.py``).
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Callable, Iterator

import perceive_ir_arch  # noqa: F401  (registers the plugin's types)

from ..data.sampling import ResumableSampler, SeededDraws
from ..losses.placement import check_loss_blocks
from ..pretrained import PretrainedFileError, read_checkpoint, read_trained
from ..registry import check_types
from .distributed import init_dist
from .options import parse_options_with_lists
from .swaps import model_swaps, swapped

__all__ = ['main', 'load_resume_state']


def _states_newest_first(states_dir: str) -> list[str]:
    """``<iter>.state`` files, newest first; temporaries of an interrupted save
    (``.<iter>.state.*.tmp``) are not candidates."""
    if not os.path.isdir(states_dir):
        return []
    iters = [int(name[:-len('.state')]) for name in os.listdir(states_dir)
             if name.endswith('.state') and name[:-len('.state')].isdigit()]
    return [os.path.join(states_dir, f'{i}.state') for i in sorted(iters, reverse=True)]


def _damaged_network(models: str, it: str) -> str | None:
    """Why the network file of a training state cannot serve a resume, None when it can."""
    path = os.path.join(models, f'net_g_{it}.pth')
    if not os.path.isfile(path):
        return f'net_g_{it}.pth is missing in {models}'
    try:
        read_trained(path, 'path.pretrain_network_g')
    except (PretrainedFileError, OSError) as exc:
        return f'its network file is damaged ({exc})'
    return None


def load_resume_state(opt: dict) -> dict | None:
    """BasicSR's resume-state lookup, read by the plugin's one reader of weight files (onto
    the CPU: the optimizer moves its state to its parameters' device when it loads it).

    With ``--auto_resume`` the newest training state that loads completely, and whose
    network file exists and reads completely, is used: a state or network damaged by a
    crash is skipped with a warning, and the state before it is tried."""
    from basicsr.utils import check_resume

    if opt['auto_resume']:
        models = opt['path'].get('models', '')
        for path in _states_newest_first(opt['path']['training_states']):
            it = os.path.basename(path)[:-len('.state')]
            try:
                state = read_checkpoint(path, 'path.resume_state')
            except Exception as exc:  # noqa: BLE001  (truncated zip, bad pickle: same answer)
                logging.getLogger('basicsr').warning(f'auto_resume: skipping {path} ({exc})')
                continue
            why = _damaged_network(models, it)
            if why is not None:
                logging.getLogger('basicsr').warning(f'auto_resume: skipping {path}: {why}')
                continue
            opt['path']['resume_state'] = path
            check_resume(opt, state['iter'])
            return state
        return None
    path = opt['path'].get('resume_state')
    if path is None:
        return None
    if not os.path.isfile(path):
        raise FileNotFoundError(f'path.resume_state: {path!r} does not exist')
    state = read_checkpoint(path, 'path.resume_state')
    check_resume(opt, state['iter'])
    return state


def _exact_resume_loaders(create: Callable, resumed: dict) -> Callable:
    """BasicSR's ``create_train_val_dataloader``, with the training loader drawing through
    ``ResumableSampler`` + ``SeededDraws``: per-sample seeds, and a resumed epoch that
    continues where the interrupted one stopped instead of starting over."""
    from basicsr.data import build_dataloader

    def create_loaders(opt: dict, logger: logging.Logger):
        train_loader, sampler, val_loaders, total_epochs, total_iters = create(opt, logger)
        if train_loader is None:
            return train_loader, sampler, val_loaders, total_epochs, total_iters
        train_opt = opt['datasets']['train']
        skip_epoch, skip = 0, 0
        if resumed:
            per_epoch = len(train_loader)
            done = resumed['iter'] - resumed['epoch'] * per_epoch  # batches of its epoch used
            if 0 <= done <= per_epoch:
                skip_epoch, skip = resumed['epoch'], done * train_opt['batch_size_per_gpu']
            else:
                logger.warning(f'resume: iteration {resumed["iter"]} does not fall in epoch '
                               f'{resumed["epoch"]} at {per_epoch} batches per epoch (batch size '
                               'or data changed?): the epoch restarts from its first batch')
        wrapped = ResumableSampler(sampler, opt.get('manual_seed') or 0, opt.get('rank', 0),
                                   skip_epoch, skip)
        loader = build_dataloader(SeededDraws(train_loader.dataset), train_opt, num_gpu=opt['num_gpu'],
                                  dist=opt['dist'], sampler=wrapped, seed=opt['manual_seed'])
        return loader, wrapped, val_loaders, total_epochs, total_iters

    return create_loaders


def _checked(parse: Callable) -> Callable:
    """``parse_options`` followed by the checks that need the whole option file: a mistyped
    registered name ("did you mean") and a plugin loss in an image-loss block of BasicSR's
    models, before any dataset or network is built."""
    def parse_and_check(*args, **kwargs):
        opt, args_ = parse(*args, **kwargs)
        check_types(opt)
        check_loss_blocks(opt)
        return opt, args_

    return parse_and_check


@contextlib.contextmanager
def _plugin_runner() -> Iterator[None]:
    """For this run only: BasicSR's CUDA-only pieces swapped for device-aware ones, its
    option parsing wrapped in the plugin's checks (values, lists in ``--force_yml``, typos,
    loss placement), its network and state files written atomically and read through the
    plugin's reader, and its training loader for one that resumes exactly.  Nothing of
    BasicSR is changed outside a run."""
    import basicsr.train as runner
    import basicsr.utils.options as options

    resumed: dict = {}

    def load_and_note(opt: dict) -> dict | None:
        state = load_resume_state(opt)
        if state is not None:
            resumed.update(epoch=state['epoch'], iter=state['iter'])
        return state

    with swapped([(runner, 'load_resume_state', load_and_note), (options, 'init_dist', init_dist),
                  (runner, 'parse_options', _checked(parse_options_with_lists(runner.parse_options))),
                  (runner, 'create_train_val_dataloader',
                   _exact_resume_loaders(runner.create_train_val_dataloader, resumed)),
                  *model_swaps()]):
        yield


def main(root_path: str | None = None) -> None:
    from basicsr.train import train_pipeline

    with _plugin_runner():
        train_pipeline(os.path.abspath(root_path or os.getcwd()))

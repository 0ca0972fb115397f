"""Train with BasicSR's runner, experiments under the current directory.

    python -m perceive_ir_arch.train -opt options/perceive_ir.yml [--auto_resume] [--launcher pytorch]

The same as BasicSR's ``basicsr/train.py`` except that (a) experiments/ is created in the
current directory, not beside the installed basicsr package, (b) resuming works without
CUDA (BasicSR's own resume maps the state onto ``torch.cuda.current_device()``), and
(c) ``torchrun ... --launcher pytorch`` works on machines without GPUs (gloo backend).
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Iterator

import torch

import perceive_ir_arch  # noqa: F401  (registers the plugin's types)

__all__ = ['main', 'load_resume_state']


def _states_newest_first(states_dir: str) -> list[str]:
    """``<iter>.state`` files, newest first; temporaries of an interrupted save
    (``.<iter>.state.*.tmp``) are not candidates."""
    if not os.path.isdir(states_dir):
        return []
    iters = [int(name[:-len('.state')]) for name in os.listdir(states_dir)
             if name.endswith('.state') and name[:-len('.state')].isdigit()]
    return [os.path.join(states_dir, f'{i}.state') for i in sorted(iters, reverse=True)]


def _device_for(opt: dict) -> torch.device:
    use_cuda = opt.get('num_gpu', 0) != 0 and torch.cuda.is_available()
    return torch.device('cuda', torch.cuda.current_device()) if use_cuda else torch.device('cpu')


def load_resume_state(opt: dict) -> dict | None:
    """BasicSR's resume-state lookup, on whatever device the run uses.

    With ``--auto_resume`` the newest training state that loads completely, and whose
    network checkpoint exists, is used: a file damaged by a crash is skipped with a
    warning instead of stopping the run."""
    from basicsr.utils import check_resume

    device = _device_for(opt)
    if opt['auto_resume']:
        models = opt['path'].get('models', '')
        for path in _states_newest_first(opt['path']['training_states']):
            it = os.path.basename(path)[:-len('.state')]
            try:
                state = torch.load(path, map_location=device, weights_only=True)
            except Exception as exc:  # noqa: BLE001  (truncated zip, bad pickle: same answer)
                logging.getLogger('basicsr').warning(f'auto_resume: skipping {path} ({exc})')
                continue
            if not os.path.isfile(os.path.join(models, f'net_g_{it}.pth')):
                logging.getLogger('basicsr').warning(
                    f'auto_resume: skipping {path}: net_g_{it}.pth is missing in {models}')
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
    state = torch.load(path, map_location=device, weights_only=True)
    check_resume(opt, state['iter'])
    return state


@contextlib.contextmanager
def _cpu_safe_runner() -> Iterator[None]:
    """Swap BasicSR's CUDA-only pieces for device-aware ones, for this run only."""
    import basicsr.models.base_model as base_model
    import basicsr.train as runner
    import basicsr.utils.options as options

    from ._dist import init_dist, model_to_device

    swaps = [(runner, 'load_resume_state', load_resume_state), (options, 'init_dist', init_dist),
             (base_model.BaseModel, 'model_to_device', model_to_device)]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in swaps]
    for owner, name, new in swaps:
        setattr(owner, name, new)
    try:
        yield
    finally:
        for owner, name, old in originals:
            setattr(owner, name, old)


def main(root_path: str | None = None) -> None:
    from basicsr.train import train_pipeline

    with _cpu_safe_runner():
        train_pipeline(os.path.abspath(root_path or os.getcwd()))


if __name__ == '__main__':
    main()

"""BasicSR's network and training-state files, written atomically and read through the
plugin's one reader of trained networks.

BasicSR's ``BaseModel`` writes ``net_g_<iter>.pth`` and ``<iter>.state`` in place (a kill
during the save leaves a truncated file under the final name; a full disk is logged as
"Just ignore it") and reads ``pretrain_network_g`` with a bare ``torch.load``.  These
functions keep BasicSR's file contents and method signatures: the plugin's models use them
as their methods, and the plugin's runner gives them to BasicSR's own models for a run.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import torch
from basicsr.utils import get_root_logger
from basicsr.utils.dist_util import master_only

from ..pretrained import TrainedWeights, load_trained, read_trained
from ..pretrained.trained import strip_prefix
from ..utils.files import atomic_torch_save

__all__ = ['bare_state', 'save_network', 'save_training_state', 'load_network', 'network_option']


def bare_state(model: Any, net: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A network's parameters as files keep them: unwrapped, on the CPU, no ``module.``."""
    state = strip_prefix(model.get_bare_model(net).state_dict(), 'module.')
    return {k: v.cpu() for k, v in state.items()}


@master_only
def save_network(self: Any, net: torch.nn.Module | list, net_label: str, current_iter: int,
                 param_key: str | list = 'params') -> None:
    """``models/<net_label>_<iter|latest>.pth`` as BasicSR writes it (``{param_key: state}``,
    several networks in one file for lists), atomically; SaveError naming the file and why."""
    nets = net if isinstance(net, list) else [net]
    keys = param_key if isinstance(param_key, list) else [param_key]
    if len(nets) != len(keys):
        raise ValueError(f'save_network: {len(nets)} networks but {len(keys)} parameter keys')
    name = f"{net_label}_{'latest' if current_iter == -1 else current_iter}.pth"
    atomic_torch_save({key: bare_state(self, one) for one, key in zip(nets, keys)},
                      os.path.join(self.opt['path']['models'], name))


@master_only
def save_training_state(self: Any, epoch: int, current_iter: int) -> None:
    """``training_states/<iter>.state`` as BasicSR writes it, atomically."""
    if current_iter == -1:
        return
    state = {'epoch': epoch, 'iter': current_iter,
             'optimizers': [o.state_dict() for o in self.optimizers],
             'schedulers': [s.state_dict() for s in self.schedulers]}
    atomic_torch_save(state, os.path.join(self.opt['path']['training_states'], f'{current_iter}.state'))


def network_option(model: Any, net: torch.nn.Module) -> str:
    """The option that names the file of one of the model's networks, for messages."""
    for label in ('net_g', 'net_d'):
        if getattr(model, label, None) is net:
            return f'path.pretrain_{label.replace("net_", "network_")}'
    return 'path.pretrain_network_g'


def load_network(self: Any, net: torch.nn.Module, load_path: str, strict: bool = True,
                 param_key: str | None = 'params',
                 check: Callable[[TrainedWeights, str], None] | None = None) -> TrainedWeights:
    """BasicSR's ``load_network`` through the one reader of trained networks: every container
    it reads (BasicSR's ``params`` / ``params_ema`` with BasicSR's fallback, restorer files,
    the authors' files, Lightning, plain state dicts), nothing unpickled that runs code, and
    one message naming the option, the file and what does not fit.  ``check(weights, what)``
    runs before the weights go in."""
    option = network_option(self, net)
    weights = read_trained(load_path, option, param_key, fallback=True)
    if check is not None:
        check(weights, f'{option}: {load_path} is {weights.what}')
    bare = self.get_bare_model(net)
    load_trained(bare, weights, option, str(load_path), strict=strict)
    get_root_logger().info(f'Loading {type(bare).__name__} from {load_path}: {weights.what}')
    return weights

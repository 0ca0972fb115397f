"""A model of the table as a network that restores: built, its published weights loaded."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..tasks import TASKS
from ..pretrained import load_trained, locate, read_checkpoint, read_trained
from ..registry import build_network, network_options
from .models import ModelEntry, model_entry

__all__ = ['ModelNetwork', 'create_network', 'model_network']


class ModelNetwork(nn.Module):
    """A network whose restored image is not simply ``net(x)``: an element of a list output
    (FSNet) or a second input per task (InstructIR's instruction vector, ``set_task``).
    Its state dict is the network's own, so files load and pack as the network's."""

    def __init__(self, entry: ModelEntry, net: nn.Module, task_inputs: dict[str, torch.Tensor] | None) -> None:
        super().__init__()
        self.entry = entry
        self.net = net
        self.task: str | None = None
        self.task_inputs = task_inputs

    def set_task(self, task: str) -> None:
        """The task the next images are restored for (for models that take one)."""
        if self.task_inputs is not None and task not in self.task_inputs:
            raise ValueError(f'{self.entry.name} restores {sorted(self.task_inputs)}, not {task!r}')
        self.task = task

    def needs_task(self) -> bool:
        return self.task_inputs is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.task_inputs is not None:
            if self.task is None:
                raise ValueError(f'{self.entry.name} restores with a vector per task: say which task '
                                 f'(--task, or set_task), one of {", ".join(sorted(self.task_inputs))}')
            vector = self.task_inputs[self.task].to(x.device, x.dtype)
            out = self.net(x, vector.expand(x.shape[0], -1))
        else:
            out = self.net(x)
        return out[self.entry.output] if self.entry.output is not None else out

    # the wrapper is invisible to files: they hold the network's parameters
    def state_dict(self, *args: Any, **kwargs: Any) -> dict:
        return self.net.state_dict(*args, **kwargs)

    def load_state_dict(self, state: Any, strict: bool = True, assign: bool = False) -> Any:
        return self.net.load_state_dict(state, strict=strict, assign=assign)

    def restorer_record(self) -> dict[str, Any]:
        """What a restorer file keeps: the network's options and that it is this model."""
        return {'network': network_options(self.net), 'model': self.entry.name}


def _task_inputs(entry: ModelEntry) -> dict[str, torch.Tensor] | None:
    if entry.task_inputs is None:
        return None
    option = f'{entry.name}.task_inputs'
    data = read_checkpoint(locate(entry.task_inputs, True, option), option)
    rows = {t: data[t].float().flatten() for t in TASKS if isinstance(data, dict) and isinstance(data.get(t), torch.Tensor)}
    missing = [t for t in entry.tasks if t not in rows]
    if missing:
        raise KeyError(f'{option}: the file of {entry.task_inputs} holds no vector for {missing}')
    return rows


def model_network(entry: ModelEntry, net: nn.Module) -> nn.Module:
    """``net`` as the entry restores with it: itself, or wrapped (list output, task input)."""
    if entry.output is None and entry.task_inputs is None:
        return net
    return ModelNetwork(entry, net, _task_inputs(entry))


def create_network(name: str, weights: str | None = None, option: str = '--weights') -> nn.Module:
    """The network of a model of the table with its published weights (found by the lookup
    rule, or the file ``weights``), in eval mode on the CPU.  Entries whose network the
    weights file describes (the authors' files) are read by ``network_from_file``."""
    entry = model_entry(name, option)
    if entry.network is None:
        raise ValueError(f'{option}: {name} is described by its weights file; read it with network_from_file')
    net = build_network(dict(entry.network), f'{name}.network')
    trained = read_trained(weights or entry.weights, option)
    load_trained(net, trained, option, weights or entry.weights)
    return model_network(entry, net).eval()

"""Hard negatives of L_dpl: frozen restorers run (or read from their stage-1b renders) on
the samples they handle."""
from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from ..backbones.frozen import freeze
from ..pretrained import PRETRAINED_PARTS, load_network_file, locate, read_checkpoint, resolve_weights
from ..registry import build_network
from ..tasks import TASKS
from ..utils.suggest import did_you_mean
from ..zoo import model_entry

__all__ = ['Proxy', 'PROXY_KEYS', 'proxy_spec']

PROXY_KEYS = ('model', 'network', 'checkpoint', 'checkpoints', 'param_key', 'tasks', 'sigmas', 'task_inputs',
              'output', 'name', 'external')


class Proxy(nn.Module):
    """A frozen restorer whose outputs are hard negatives for the samples it handles.

    ``checkpoint``: one restorer for every sample.  ``checkpoints: [fold0, fold1]``: the
    stage-1 medium tier cross-fitted as the release does: a sample of fold f takes the
    output of the restorer that did not see it (trained on the other fold), read from
    its stage-1b render when the dataset gives one (``medium_root``), else computed.
    ``tasks`` / ``sigmas``: it handles only samples of these tasks / synthesised at these
    noise levels (a denoiser per sigma, as the release's MambaIR negatives).
    ``task_inputs``: a file of one tensor per task name, given to the network as its second
    input (InstructIR's fixed task vectors).  ``output``: the element of a list output.
    ``external: true`` marks another project's network (dropped by ``external_proxies: false``).
    Files may be named by their ``PRETRAINED_PARTS`` name (the lookup rule finds them).
    ``model: NAME`` (a model of the table, ``perceive-ir models``) gives the network, the
    checkpoint, the task inputs and the output index; keys written beside it override them
    (``network`` key by key).
    The network runs on the samples it handles only; the others keep the degraded image
    (their weight m_k is 0).
    """

    def __init__(self, spec: dict[str, Any], where: str) -> None:
        super().__init__()

        spec = proxy_spec(spec, where)
        unknown = set(spec) - set(PROXY_KEYS)
        if unknown:
            hints = ''.join(did_you_mean(k, PROXY_KEYS) for k in sorted(unknown))
            raise KeyError(f'{where}: unknown keys {sorted(unknown)}{hints}; a proxy has '
                           + ', '.join(PROXY_KEYS))
        if 'network' not in spec or ('checkpoint' in spec) == ('checkpoints' in spec):
            raise KeyError(f'{where}: a proxy needs network (a BasicSR network_g block) and either '
                           'checkpoint or checkpoints (one per stage-1 fold, cross-fitted)')
        self.cross_fitted = 'checkpoints' in spec
        paths = list(spec['checkpoints']) if self.cross_fitted else [spec['checkpoint']]
        if self.cross_fitted and len(paths) != 2:
            raise ValueError(f'{where}.checkpoints: the two stage-1 restorers (fold 0, fold 1), '
                             f'got {len(paths)}')
        self.files = [resolve_weights(str(path), f'{where}.checkpoints[{i}]' if self.cross_fitted
                                      else f'{where}.checkpoint')  # a published file by its name
                      for i, path in enumerate(paths)]
        if self.cross_fitted and os.path.realpath(self.files[0]) == os.path.realpath(self.files[1]):
            raise ValueError(f'{where}.checkpoints: both folds name {self.files[0]}; the medium tier is '
                             'cross-fitted: give the restorer trained on fold 0, then the one trained on fold 1')
        nets = []
        for i, path in enumerate(self.files):
            label = f'{where}.checkpoints[{i}]' if self.cross_fitted else f'{where}.checkpoint'
            net = build_network(dict(spec['network']))
            # checkpoints[k] is the restorer trained on fold k (it renders the other fold)
            nets.append(freeze(load_network_file(net, str(path), label, spec.get('param_key'),
                                                 trained_on_fold=i if self.cross_fitted else None)))
        self.nets = nn.ModuleList(nets)
        tasks = spec.get('tasks')
        bad = [t for t in (tasks or []) if t not in TASKS]
        if bad:
            raise ValueError(f'{where}.tasks: {bad} are not tasks; use {list(TASKS)} or ~ for all')
        sigmas = spec.get('sigmas')
        if sigmas is not None and (not isinstance(sigmas, (list, tuple)) or not sigmas
                                   or not all(isinstance(v, (int, float)) and v > 0 for v in sigmas)):
            raise ValueError(f'{where}.sigmas: {sigmas!r}; a list of noise levels (e.g. [15]) or ~ for any')
        output = spec.get('output')
        if output is not None and (not isinstance(output, int) or isinstance(output, bool)):
            raise ValueError(f'{where}.output: {output!r}; the index of the element of a list output, or ~')
        self.output_index = output
        self.name = spec.get('name', spec['network'].get('type'))
        self.register_buffer('handles', torch.tensor([tasks is None or t in tasks for t in TASKS]),
                             persistent=False)
        self.register_buffer('sigmas', torch.tensor([float(v) for v in sigmas or []]), persistent=False)
        self.register_buffer('task_inputs', self._task_inputs(spec.get('task_inputs'), tasks, where),
                             persistent=False)

    @staticmethod
    def _task_inputs(path: str | None, tasks: list | None, where: str) -> torch.Tensor:
        """One row per task of the table (zeros for tasks the proxy does not handle)."""
        if path is None:
            return torch.empty(0)

        option = f'{where}.task_inputs'
        if path in PRETRAINED_PARTS:
            path = locate(path, True, option)
        if not os.path.isfile(str(path)):
            raise FileNotFoundError(f'{option}: {path!r} does not exist (a file of one tensor per task name, '
                                    "e.g. the release's task_embeddings.pt)")
        data = read_checkpoint(str(path), option)
        wanted = [t for t in TASKS if tasks is None or t in tasks]
        if not isinstance(data, dict) or not all(isinstance(data.get(t), torch.Tensor) for t in wanted):
            found = sorted(map(str, data)) if isinstance(data, dict) else type(data).__name__
            raise KeyError(f'{option}: {path} needs one tensor for each task the proxy handles '
                           f'({wanted}); it holds {found}')
        rows = [data[t].float().flatten() if t in wanted else None for t in TASKS]
        size = rows[TASKS.index(wanted[0])].numel()
        if any(r is not None and r.numel() != size for r in rows):
            raise ValueError(f'{option}: {path} holds task inputs of different sizes')
        return torch.stack([r if r is not None else torch.zeros(size) for r in rows])

    def train(self, mode: bool = True) -> 'Proxy':
        return self

    def mask(self, b: int, task_id: torch.Tensor | None, level: torch.Tensor | None) -> torch.Tensor:
        """Which samples this proxy handles (m_k = 1)."""
        m = self.handles[task_id] if task_id is not None else torch.ones(
            b, dtype=torch.bool, device=self.handles.device)
        if self.sigmas.numel():
            if level is None:
                raise KeyError(f'proxy {self.name}: sigmas needs the noise level of each sample, which '
                               'MixedDegradationDataset gives (level)')
            m = m & (level.to(self.sigmas.device)[:, None].float() == self.sigmas[None]).any(1)
        return m

    def _run(self, net: nn.Module, lq: torch.Tensor, task_id: torch.Tensor | None) -> torch.Tensor:
        if self.task_inputs.numel():
            if task_id is None:
                raise KeyError(f'proxy {self.name}: task_inputs needs a task label per sample')
            out = net(lq, self.task_inputs[task_id])
        else:
            out = net(lq)
        if self.output_index is not None:
            out = out[self.output_index]
        return out.float()

    @torch.no_grad()
    def forward(self, lq: torch.Tensor, fold: torch.Tensor | None = None,
                medium: torch.Tensor | None = None, has_medium: torch.Tensor | None = None,
                task_id: torch.Tensor | None = None, level: torch.Tensor | None = None,
                rendered: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """The proxy's outputs; samples with a stage-1b render (``medium`` for the
        cross-fitted medium tier, ``rendered`` = (images, has) for any other) read it."""
        if self.cross_fitted and fold is None:
            raise KeyError('a cross-fitted proxy (checkpoints: one per fold) needs the sample '
                           "folds: set datasets.train.medium_root (MixedDegradationDataset)")
        out = lq.float().clone()  # samples it does not handle keep their input (weight 0)
        todo = self.mask(lq.shape[0], task_id, level).to(lq.device)
        if self.cross_fitted and medium is not None and has_medium is not None:
            rendered = (medium, has_medium)
        if rendered is not None and rendered[0] is not None and rendered[1] is not None:
            ready = todo & rendered[1].to(lq.device).bool()
            out[ready] = rendered[0].to(lq.device)[ready].float()
            todo &= ~ready
        for k, net in enumerate(self.nets):  # cross-fitted: net k was trained on fold k
            pick = todo & (fold.to(lq.device) != k) if self.cross_fitted else todo
            if pick.any():
                ids = None if task_id is None else task_id.to(lq.device)[pick]
                out[pick] = self._run(net, lq[pick], ids)
        return out.clamp(0, 1)


def proxy_spec(spec: dict[str, Any], where: str) -> dict[str, Any]:
    """A proxy's options with the table's entry of ``model`` filled in under what is written."""
    spec = dict(spec)
    if 'model' not in spec:
        return spec

    entry = model_entry(spec.pop('model'), f'{where}.model')
    if entry.network is None:
        raise ValueError(f'{where}.model: {entry.name} is described by its file; give network and checkpoint')
    filled = {'network': dict(entry.network), 'checkpoint': entry.weights, 'name': entry.name, 'external': True}
    if entry.task_inputs is not None:
        filled['task_inputs'] = entry.task_inputs
    if entry.output is not None:
        filled['output'] = entry.output
    network = {**filled['network'], **(spec.pop('network', None) or {})}
    return {**filled, **spec, 'network': network}

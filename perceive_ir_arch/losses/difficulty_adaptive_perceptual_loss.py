"""DifficultyAdaptivePerceptualLoss (L_dpl): a contrastive ratio on frozen VGG16 features.

    L = mean_b sum_l w_l * D_l(R, GT) / (2 D_l(R, LQ) + sum_k m_k lambda_k D_l(R, P_k))

with D_l the mean absolute difference of VGG16 features at tap l, R the restored image
(anchor), GT the positive, LQ the easy negative and P_k the outputs of frozen proxy
restorers (hard negatives).  m_k = 1 when proxy k handles the sample's task;
lambda_k = 1.25 when PSNR(P_k, GT) <= rho (the model's own probe PSNR for that task),
else 0.75 (docs/method.md section 3).
"""
from __future__ import annotations

import logging
import os
from typing import Any, Sequence

import torch
from torch import nn

from .._registry import register_loss
from ..archs.frozen import freeze, register_normalisation, seeded_build
from ..pretrained import PretrainedFileError, describe, load_strict, pretrained_part, pretrained_state
from ..data.tasks import TASKS

__all__ = ['DifficultyAdaptivePerceptualLoss', 'Proxy', 'VGG16Features', 'batch_psnr']

logger = logging.getLogger('basicsr.perceive_ir')



def batch_psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """PSNR (dB) of each image pair in a batch, images in [0, 1]."""
    mse = (x.float().clamp(0, 1) - y.float()).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


class VGG16Features(nn.Module):
    """Frozen torchvision VGG16 ``features`` read at the given module indices.

    The release taps indices 3, 7, 11, 15.  Index 7 is conv2_2, but torchvision's ReLU
    at index 8 runs in place and overwrites that tensor, so what the release reads there
    is relu2_2.  We compute the same thing explicitly: every tap is taken after the ReLU
    that follows it (relu1_2, relu2_2, relu3_1, relu3_3), with no in-place operations.
    """

    def __init__(self, taps: Sequence[int] = (3, 7, 11, 15), pretrained: str | bool | None = None,
                 option: str = 'train.dpl_opt.vgg_pretrained') -> None:
        super().__init__()
        import torchvision

        found = pretrained_state('vgg16', pretrained, option)
        vgg = seeded_build(lambda: torchvision.models.vgg16(weights=None))
        if found is None:
            logger.warning(f'VGG16 for the perceptual loss: RANDOM weights ({option}: ~). '
                           'Tests and demos only.')
        else:
            path, state = found
            needs = f'the perceptual loss needs {pretrained_part("vgg16").title}'
            if not any(k.startswith('features.') for k in state):
                raise PretrainedFileError(f'{option}: {path} is {describe(state)}; {needs}')
            load_strict(vgg, state, option=option, path=path, needs=needs)
            logger.info(f'VGG16 for the perceptual loss: weights from {path}')
        layers = list(vgg.features.children())
        # a tap on a conv output reads the ReLU after it (see the class docstring)
        self.taps = [i + 1 if isinstance(layers[i], nn.Conv2d) else i for i in taps]
        for layer in layers:
            if isinstance(layer, nn.ReLU):
                layer.inplace = False
        self.features = nn.Sequential(*layers[:max(self.taps) + 1])
        register_normalisation(self, pretrained_part('vgg16').mean_std)
        freeze(self)

    def train(self, mode: bool = True) -> 'VGG16Features':
        return self

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out


_PROXY_KEYS = ('network', 'checkpoint', 'checkpoints', 'param_key', 'tasks', 'sigmas', 'task_inputs',
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
    The network runs on the samples it handles only; the others keep the degraded image
    (their weight m_k is 0).
    """

    def __init__(self, spec: dict[str, Any], where: str) -> None:
        super().__init__()
        from basicsr.archs import build_network

        from ..pretrained import load_network_file, resolve_weights
        from ..utils.suggest import did_you_mean

        spec = dict(spec)
        unknown = set(spec) - set(_PROXY_KEYS)
        if unknown:
            hints = ''.join(did_you_mean(k, _PROXY_KEYS) for k in sorted(unknown))
            raise KeyError(f'{where}: unknown keys {sorted(unknown)}{hints}; a proxy has '
                           + ', '.join(_PROXY_KEYS))
        if 'network' not in spec or ('checkpoint' in spec) == ('checkpoints' in spec):
            raise KeyError(f'{where}: a proxy needs network (a BasicSR network_g block) and either '
                           'checkpoint or checkpoints (one per stage-1 fold, cross-fitted)')
        self.cross_fitted = 'checkpoints' in spec
        paths = list(spec['checkpoints']) if self.cross_fitted else [spec['checkpoint']]
        if self.cross_fitted and len(paths) != 2:
            raise ValueError(f'{where}.checkpoints: the two stage-1 restorers (fold 0, fold 1), '
                             f'got {len(paths)}')
        self.files = []
        nets = []
        for i, path in enumerate(paths):
            label = f'{where}.checkpoints[{i}]' if self.cross_fitted else f'{where}.checkpoint'
            path = resolve_weights(str(path), label)  # a published file by its name: the lookup rule
            self.files.append(path)
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
        from ..pretrained import read_checkpoint

        from ..pretrained import PRETRAINED_PARTS, locate

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


@register_loss
class DifficultyAdaptivePerceptualLoss(nn.Module):
    """See the module docstring.  BasicSR style: ``loss(pred, target, lq=..., task_id=...,
    rho=...)``; ``rho`` is the per-sample probe PSNR (B,), or None before the first probe
    (lambda is then 1 for every proxy).

    Options: ``loss_weight``, ``vgg_pretrained`` (``vgg16-397923af.pth``; true = found by the
    lookup rule; ~ = random, tests only), ``layers`` (feature indices), ``layer_weights``, ``proxies``: a list of
    ``{network: {type: ..., ...}, checkpoint: path, param_key: params, tasks: [...]}``, or
    ``checkpoints: [fold0, fold1]`` for the stage-1 medium tier cross-fitted (each sample's
    medium image from the restorer that did not see it: its stage-1b render when the
    dataset has ``medium_root``, else computed), as the release does; ``tasks``, ``sigmas``,
    ``task_inputs``, ``output``, ``external`` as ``Proxy`` says.  ``external_proxies:
    false`` drops the proxies marked ``external`` (for users without the peers' files).
    """

    def __init__(self, loss_weight: float = 1.0, vgg_pretrained: str | bool | None = None,
                 layers: Sequence[int] = (3, 7, 11, 15),
                 layer_weights: Sequence[float] = (1 / 12, 1 / 6, 1 / 3, 1.0),
                 proxies: Sequence[dict] | None = None, easy_weight: float = 2.0,
                 hard_lambdas: Sequence[float] = (1.25, 0.75), eps: float = 1e-7,
                 clamp_restored: bool = True, external_proxies: bool = True) -> None:
        super().__init__()
        if len(layers) != len(layer_weights):
            raise ValueError(f'train.dpl_opt: {len(layers)} layers but {len(layer_weights)} weights')
        self.vgg = VGG16Features(layers, vgg_pretrained)
        kept = [(i, p) for i, p in enumerate(proxies or []) if external_proxies or not p.get('external')]
        dropped = [p.get('name', p.get('network', {}).get('type')) for p in proxies or []
                   if p.get('external') and not external_proxies]
        if dropped:
            logger.info(f'L_dpl: external_proxies: false drops the hard negatives {dropped}')
        self.proxies = nn.ModuleList(Proxy(p, f'train.dpl_opt.proxies[{i}]') for i, p in kept)
        if self.proxies:
            logger.info('L_dpl hard negatives: ' + '; '.join(
                f'{p.name} ({", ".join(os.path.basename(f) for f in p.files)})' for p in self.proxies))
        self.loss_weight, self.layer_weights = loss_weight, [float(w) for w in layer_weights]
        self.easy_weight, self.hard_lambdas, self.eps = easy_weight, tuple(hard_lambdas), eps
        self.clamp_restored = clamp_restored

    def train(self, mode: bool = True) -> 'DifficultyAdaptivePerceptualLoss':
        return super().train(False)

    def forward(self, pred: torch.Tensor, target: torch.Tensor, lq: torch.Tensor,
                task_id: torch.Tensor | None = None, rho: torch.Tensor | None = None,
                fold: torch.Tensor | None = None, medium: torch.Tensor | None = None,
                has_medium: torch.Tensor | None = None, level: torch.Tensor | None = None,
                **kwargs) -> torch.Tensor:
        b = pred.shape[0]
        with torch.no_grad():  # fixed images: their features once per step, in one batch
            fixed, coefs = [target.float(), lq.float()], []  # coef: per-sample m_k * lambda_k
            for proxy in self.proxies:
                rendered = (kwargs.get(f'render_{proxy.name}'), kwargs.get(f'has_render_{proxy.name}'))
                out = proxy(lq, fold, medium, has_medium, task_id, level, rendered)
                m = proxy.mask(b, task_id, level).to(pred.device).float()
                if rho is None:
                    lam = torch.ones(b, device=pred.device)
                else:
                    hard, easy = self.hard_lambdas
                    lam = torch.where(batch_psnr(out, target) <= rho, hard, easy)
                fixed.append(out)
                coefs.append(m * lam)
            per_image = [f.split(b) for f in self.vgg(torch.cat(fixed))]
            f_gt = [f[0] for f in per_image]
            f_lq = [f[1] for f in per_image]
            negatives = [([f[2 + k] for f in per_image], coef) for k, coef in enumerate(coefs)]
        # the release clamps the restored image to [0, 1] before VGG16 (no gradient outside)
        f_r = self.vgg(pred.float().clamp(0, 1) if self.clamp_restored else pred.float())
        total = pred.new_zeros(b, dtype=torch.float32)
        for l, w in enumerate(self.layer_weights):
            dist = lambda a: (f_r[l] - a).abs().flatten(1).mean(1)  # noqa: E731
            denom = self.easy_weight * dist(f_lq[l])
            for feats, coef in negatives:
                denom = denom + coef * dist(feats[l])
            total = total + w * dist(f_gt[l]) / (denom + self.eps)
        return self.loss_weight * total.mean()

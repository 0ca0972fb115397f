"""PerceiveIRModel: stage-2 training of Perceive-IR on top of BasicSR's SRModel."""
from __future__ import annotations

import contextlib
import math
import os
from collections import OrderedDict

import torch
from basicsr.losses import build_loss
from basicsr.models.sr_model import SRModel
from basicsr.utils import get_root_logger
from basicsr.utils.dist_util import master_only

from ..inference.restorer import restore_with_protocol
from ..published import check_published_tasks
from ..registry import check_types, register_model, remember_options
from ..utils.device import HALF_DTYPES
from ..utils.files import atomic_torch_save
from ..zoo import model_network, named_model, with_named_model
from . import checkpoints
from ._optim import build_optimizer
from ._probe import DifficultyProbe
from .best_checkpoint import BestCheckpoint
from .parallel import model_to_device
from .step_memory import log_step_memory

__all__ = ['PerceiveIRModel']

# what the proxies of L_dpl read from a batch beside lq and task_id
_PROXY_INPUTS = ('fold', 'medium', 'has_medium', 'level')



@register_model
class PerceiveIRModel(SRModel):
    """L = pixel + contrastive + CLIP quality, with any optimizer, autocast and clipping.

    ``train`` options beyond SRModel's::

        optim_g: {type: AdamW, lr: 2e-4, betas: [0.9, 0.999], weight_decay: 1e-4}  # any torch.optim
        pixel_opt: {type: L1Loss, loss_weight: 1.0}
        contrastive_opt: {type: DegradationContrastiveLoss, loss_weight: 0.1, temperature: 0.1}
        clip_quality_opt: {type: CLIPQualityLoss, loss_weight: 0.05, clip_pretrained: ..., prompt_file: ...}
        dpl_opt: {type: DifficultyAdaptivePerceptualLoss, loss_weight: 0.1, vgg_pretrained: ...,
                  proxies: [...], probe_crops: 24, probe_every: ~,   # ~ = once per epoch
                  probe_rho: overall}   # or per_task (one rho per task)
        autocast: bf16          # bf16 | fp16 | ~ (fp16 uses a gradient scaler)
        grad_clip: ~            # max gradient norm, or ~
        nonfinite: raise        # a NaN / inf loss stops training (raise) or skips the step (skip)

    Any BasicSR network works as ``network_g``; the terms that need Perceive-IR's
    degradation vector are then skipped, with a log line saying so.  The contrastive
    term needs the training set to return a second crop: ``positive_crop: true``.
    The perceptual term's probe (rho per task) is re-measured every ``probe_every``
    iterations and saved in the training state, so ``--auto_resume`` continues with it.
    """

    def __init__(self, opt: dict) -> None:
        entry = named_model(opt)  # path.pretrain_network_g: a model of the table, by name
        opt = with_named_model(opt)
        check_types(opt)  # "did you mean" for a mistyped registered name, before anything is built
        super().__init__(opt)
        remember_options(self.get_bare_model(self.net_g), opt['network_g'])  # packs like the plugin's own
        if entry is not None and not self.is_train:  # restores as the model (a list output, a task input)
            self.net_g = model_network(entry, self.net_g)

    def init_training_settings(self) -> None:
        self.best = BestCheckpoint([k for k in self.opt.get('datasets', {}) if k.startswith('val')])
        train_opt = self.opt['train']
        key = train_opt.get('autocast')
        if key not in (None, 'none', *HALF_DTYPES):
            raise ValueError(f"train.autocast: {key!r}; use bf16, fp16 or ~")
        self.autocast_dtype = HALF_DTYPES.get(key)
        self.grad_clip = train_opt.get('grad_clip')
        self.nonfinite = train_opt.get('nonfinite', 'raise')
        if self.nonfinite not in ('raise', 'skip'):
            raise ValueError(f"train.nonfinite: {self.nonfinite!r}; use raise or skip")
        self.skipped_steps, self.steps = 0, 0
        self.accumulate = int(train_opt.get('accumulate', 1))
        if self.accumulate < 1:
            raise ValueError(f'train.accumulate: {self.accumulate}; use 1 (no accumulation) or more')
        batch = ((self.opt.get('datasets') or {}).get('train') or {}).get('batch_size_per_gpu')
        if batch and batch % self.accumulate:
            raise ValueError(f'train.accumulate: {self.accumulate} does not divide '
                             f'datasets.train.batch_size_per_gpu: {batch}')
        self._check_task_labels(train_opt)
        super().init_training_settings()
        logger = get_root_logger()
        net = self.get_bare_model(self.net_g)
        guided = getattr(net, 'cfe', None) is not None
        self.cri_cl = None
        if train_opt.get('contrastive_opt'):
            if guided:
                self.cri_cl = build_loss(train_opt['contrastive_opt']).to(self.device)
            else:
                logger.info(f'{type(net).__name__} has no degradation vector: contrastive_opt skipped')
        self.cri_clip = (build_loss(train_opt['clip_quality_opt']).to(self.device)
                         if train_opt.get('clip_quality_opt') else None)
        self.cri_dpl, self.probe = None, None
        if train_opt.get('dpl_opt'):
            self._init_dpl(dict(train_opt['dpl_opt']))
        fp16 = self.autocast_dtype is torch.float16
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=fp16)
        log_step_memory(self.get_bare_model(self.net_g), self.opt, self.accumulate, self.autocast_dtype)

    def _check_task_labels(self, train_opt: dict) -> None:
        """L_cl and a proxy's ``tasks`` list need a task label per sample: refuse, before
        anything is built, a training set whose type gives none."""
        from basicsr.utils.registry import DATASET_REGISTRY

        kind = ((self.opt.get('datasets') or {}).get('train') or {}).get('type')
        if kind is None or kind not in DATASET_REGISTRY:
            return
        if getattr(DATASET_REGISTRY.get(kind), 'gives_task_labels', False):
            return
        needs = []
        if train_opt.get('contrastive_opt'):
            needs.append('train.contrastive_opt (its negatives are the samples of other tasks)')
        proxies = (train_opt.get('dpl_opt') or {}).get('proxies') or []
        needs += [f'train.dpl_opt.proxies[{i}].tasks (it masks the samples of other tasks)'
                  for i, p in enumerate(proxies) if p.get('tasks')]
        if needs:
            raise KeyError(f'datasets.train: {kind} gives no task label per sample, which '
                           + ' and '.join(needs) + ' need; use MixedDegradationDataset, or '
                           'remove contrastive_opt / set the proxy tasks: ~')

    def _init_dpl(self, dpl_opt: dict) -> None:
        from basicsr.data import build_dataset

        per_task = int(dpl_opt.pop('probe_crops', 24))
        every = dpl_opt.pop('probe_every', None)
        rho = dpl_opt.pop('probe_rho', 'overall')
        self.cri_dpl = build_loss(dpl_opt).to(self.device)
        train_set = (self.opt.get('datasets') or {}).get('train')
        if train_set is None:
            raise KeyError('train.dpl_opt needs datasets.train: its probe is drawn from the training set')
        dataset = build_dataset(train_set)
        self.probe = DifficultyProbe(dataset, per_task, seed=int(self.opt.get('manual_seed') or 0), rho=rho)
        if every is None:  # once per epoch, as the paper
            per_gpu = train_set.get('batch_size_per_gpu', 1) * self.opt.get('world_size', 1)
            every = math.ceil(len(dataset) * train_set.get('dataset_enlarge_ratio', 1) / per_gpu)
        self.probe_every = max(int(every), 1)
        self.next_probe = 1

    # -- weights and testing ----------------------------------------------------------------
    def load_network(self, net: torch.nn.Module, load_path: str, strict: bool = True,
                     param_key: str | None = 'params') -> None:
        """``path.pretrain_network_g`` (and resume) through the plugin's one loader of trained
        networks: BasicSR checkpoints as BasicSR reads them, restorer files, the authors'
        release files (``AIO-3D.pth``, or a name of ``PRETRAINED_PARTS``), checked against the
        tasks the option file tests."""
        def check(weights, what: str) -> None:
            if weights.tasks is not None:
                check_published_tasks(self.opt, weights.tasks, what)

        checkpoints.load_network(self, net, load_path, strict, param_key, check=check)

    save_network = checkpoints.save_network  # atomic, BasicSR's contents

    def test(self) -> None:
        """SRModel's test, or with ``val.protocol`` another (the authors' evaluator: 256-px
        tiles with 32 overlap, each guided by itself, averaged; MambaIR's partition)."""
        protocol = (self.opt.get('val') or {}).get('protocol', 'whole_image')
        if protocol == 'whole_image':
            return super().test()
        net = self.net_g_ema if hasattr(self, 'net_g_ema') else self.net_g
        self.output = restore_with_protocol(self.get_bare_model(net), self.lq, self.device, protocol)

    def model_to_device(self, net: torch.nn.Module) -> torch.nn.Module:
        return model_to_device(self, net)  # DDP on CPU too (gloo)

    def get_optimizer(self, optim_type: str, params, lr: float, **kwargs) -> torch.optim.Optimizer:
        return build_optimizer(optim_type, params, lr, **kwargs)

    def feed_data(self, data: dict) -> None:
        super().feed_data(data)
        if hasattr(self.net_g, 'set_task') and data.get('task'):  # a model that takes its task as an input
            self.net_g.set_task(data['task'][0])
        self.lq_pos = data['lq_pos'].to(self.device) if 'lq_pos' in data else None
        self.lq_paths = list(data.get('lq_path', []))
        self.task_id = data['task_id'].to(self.device) if 'task_id' in data else None
        # the cross-fitted medium tier of L_dpl (datasets.train.medium_root)
        # and the noise level of each synthesised sample (proxies per sigma)
        # and the proxies' stage-1b renders (render_<name>, has_render_<name>)
        self.medium_tier = {k: data[k].to(self.device) for k in data
                            if k in _PROXY_INPUTS or k.startswith(('render_', 'has_render_'))}

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def optimize_parameters(self, current_iter: int) -> None:
        self.steps += 1
        if self.probe is not None and current_iter >= self.next_probe:
            rho = self.probe.measure(self.get_bare_model(self.net_g), self.device, self._autocast)
            self.next_probe = current_iter + self.probe_every
            get_root_logger().info('DPL probe PSNR (rho): ' + ', '.join(f'{k} {v:.2f}' for k, v in rho.items()))
        self.optimizer_g.zero_grad(set_to_none=True)
        parts = self._micro_batches()
        logged: OrderedDict[str, torch.Tensor] = OrderedDict()
        outputs = []
        for i, part in enumerate(parts):
            # DDP: gradients are all-reduced once, with the last micro-batch's backward
            sync = i == len(parts) - 1 or not hasattr(self.net_g, 'no_sync')
            with contextlib.nullcontext() if sync else self.net_g.no_sync():
                loss_dict = self._losses(part)
                if not self._finite(loss_dict['l_total']):
                    self._nonfinite(current_iter, loss_dict)
                    self.log_dict = self.reduce_loss_dict(loss_dict)
                    return
                self.scaler.scale(loss_dict['l_total'] / len(parts)).backward()
            outputs.append(self.output.detach())
            for key, value in loss_dict.items():
                logged[key] = logged.get(key, 0) + value.detach() / len(parts)
        self.output = outputs[0] if len(outputs) == 1 else torch.cat(outputs)
        if self.grad_clip:
            self.scaler.unscale_(self.optimizer_g)
            torch.nn.utils.clip_grad_norm_(self.net_g.parameters(), float(self.grad_clip))
        self.scaler.step(self.optimizer_g)
        self.scaler.update()
        self.log_dict = self.reduce_loss_dict(logged)
        if self.ema_decay > 0:
            self.model_ema(decay=self.ema_decay)

    def _micro_batches(self) -> list[dict]:
        """The fed batch as ``train.accumulate`` equal slices (one slice: the batch)."""
        batch = {'lq': self.lq, 'gt': self.gt, 'lq_pos': self.lq_pos, 'task_id': self.task_id,
                 **self.medium_tier}
        n = self.accumulate
        size = self.lq.shape[0]
        if size % n:
            raise ValueError(f'train.accumulate: {n} does not divide the batch of {size} '
                             '(datasets.train.batch_size_per_gpu)')
        step = size // n
        return [{k: (v[i:i + step] if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}
                for i in range(0, size, step)]

    def _losses(self, part: dict) -> OrderedDict:
        """Forward one (micro-)batch and its loss terms; ``l_total`` their sum."""
        loss_dict: OrderedDict[str, torch.Tensor] = OrderedDict()
        lq, gt, task_id = part['lq'], part['gt'], part['task_id']
        with self._autocast():
            if self.cri_cl is not None:
                if part['lq_pos'] is None or task_id is None:
                    raise KeyError('train.contrastive_opt needs datasets.train.positive_crop: true '
                                   'and a dataset that gives task_id (MixedDegradationDataset)')
                output, z, z_pos = self.net_g(lq, positive=part['lq_pos'])
            else:
                output = self.net_g(lq)
        self.output = output.float()  # losses in fp32

        l_total = self.output.new_zeros(())
        if self.cri_pix:
            loss_dict['l_pix'] = self.cri_pix(self.output, gt)
        if self.cri_cl is not None:
            loss_dict['l_cl'] = self.cri_cl(z.float(), z_pos.float(), labels=task_id)
        if self.cri_clip is not None:
            loss_dict['l_clip'] = self.cri_clip(self.output)
        if self.cri_dpl is not None:
            rho = self.probe.rho_for(task_id, self.output.shape[0], self.device)
            medium = {k: v for k, v in part.items() if k in _PROXY_INPUTS or k.startswith(('render_', 'has_render_'))}
            loss_dict['l_dpl'] = self.cri_dpl(self.output, gt, lq=lq, task_id=task_id, rho=rho, **medium)
        if self.cri_perceptual:
            l_percep, l_style = self.cri_perceptual(self.output, gt)
            if l_percep is not None:
                loss_dict['l_percep'] = l_percep
            if l_style is not None:
                loss_dict['l_style'] = l_style
        for value in loss_dict.values():
            l_total = l_total + value
        loss_dict['l_total'] = l_total
        return loss_dict

    def _finite(self, loss: torch.Tensor) -> bool:
        """Whether the loss is finite on every process (all must skip a step together)."""
        ok = torch.isfinite(loss.detach()).float()
        if self.opt.get('dist'):
            torch.distributed.all_reduce(ok, op=torch.distributed.ReduceOp.MIN)
        return bool(ok.item())

    def _nonfinite(self, current_iter: int, loss_dict: dict) -> None:
        terms = ', '.join(f'{k} = {float(v.detach()):g}' for k, v in loss_dict.items() if k != 'l_total')
        paths = ', '.join(self.lq_paths[:8]) + (' ...' if len(self.lq_paths) > 8 else '')
        what = (f'iteration {current_iter}: the loss is not finite ({terms}); '
                f'batch: {paths or "(no paths in this batch)"}')
        self.optimizer_g.zero_grad(set_to_none=True)
        if self.nonfinite == 'skip':
            self.skipped_steps += 1
            get_root_logger().warning(f'{what}; step skipped (train.nonfinite: skip), '
                                      f'{self.skipped_steps} so far')
            return
        raise FloatingPointError(f'{what}. Lower the learning rate, check these images, set '
                                 'train.grad_clip, or set train.nonfinite: skip to skip such steps')

    # -- the best checkpoint: mean validation PSNR over the validation sets ---------------
    def nondist_validation(self, dataloader, current_iter, tb_logger, save_img) -> None:
        super().nondist_validation(dataloader, current_iter, tb_logger, save_img)
        psnr = (getattr(self, 'metric_results', None) or {}).get('psnr')
        if psnr is not None and self.is_train:
            self.note_validation(dataloader.dataset.opt['name'], float(psnr), current_iter)

    def note_validation(self, name: str, psnr: float, current_iter: int) -> bool:
        """One validation set's PSNR; ``net_g_best.pth`` written when the mean over every set
        at this iteration is the best so far (``BestCheckpoint``).  True if written."""
        best = self.best.note(name, psnr, current_iter)
        if best:
            self._save_best()
        return best

    @master_only
    def _save_best(self) -> None:
        nets = [('params', self.net_g)] + ([('params_ema', self.net_g_ema)] if hasattr(self, 'net_g_ema') else [])
        atomic_torch_save({key: checkpoints.bare_state(self, net) for key, net in nets},
                          os.path.join(self.opt['path']['models'], 'net_g_best.pth'))

    def save(self, epoch: int, current_iter: int) -> None:
        super().save(epoch, current_iter)
        if current_iter == -1 and self.is_train and self.skipped_steps:  # the end of training
            get_root_logger().warning(
                f'train.nonfinite: skip skipped {self.skipped_steps} of the {self.steps} steps of this run '
                f'({100 * self.skipped_steps / max(self.steps, 1):.0f}%): the saved network learnt from '
                f'{self.steps - self.skipped_steps} steps (the warnings above name each batch)')

    # -- training state: BasicSR's keys plus the probe and the gradient scaler ------------
    @master_only
    def save_training_state(self, epoch: int, current_iter: int) -> None:
        if current_iter == -1:
            return
        state = {'epoch': epoch, 'iter': current_iter,
                 'optimizers': [o.state_dict() for o in self.optimizers],
                 'schedulers': [s.state_dict() for s in self.schedulers],
                 'perceive_ir': {'scaler': self.scaler.state_dict(),
                                 'rho': self.probe.state_dict() if self.probe else {},
                                 'next_probe': getattr(self, 'next_probe', 1),
                                 'best': self.best.state_dict()}}
        path = os.path.join(self.opt['path']['training_states'], f'{current_iter}.state')
        atomic_torch_save(state, path)

    def resume_training(self, resume_state: dict) -> None:
        super().resume_training(resume_state)
        extra = resume_state.get('perceive_ir', {})
        if extra.get('scaler'):
            self.scaler.load_state_dict(extra['scaler'])
        if self.probe is not None:
            self.probe.load_state_dict(extra.get('rho', {}))
            self.next_probe = int(extra.get('next_probe', 1))
        self.best.load_state_dict(extra.get('best'))

"""QualityPerceiverModel: stage-1 prompt learning of the CLIP quality perceiver."""
from __future__ import annotations

import os
from collections import OrderedDict

import torch
import torch.nn.functional as F
from basicsr.models.base_model import BaseModel
from basicsr.utils import get_root_logger
from basicsr.utils.dist_util import master_only

from ..registry import build_network, check_types, register_model
from ..utils.files import atomic_torch_save
from . import checkpoints
from .parallel import model_to_device
from ..archs.clip_quality_perceiver_arch import QUALITY_TIERS
from ..tasks import TASKS
from ._optim import build_optimizer

__all__ = ['QualityPerceiverModel']


@register_model
class QualityPerceiverModel(BaseModel):
    """Cross-entropy of the perceiver's tier logits against the tier of each image.

    Each batch of ``QualityTierDataset`` triplets becomes 3B images labelled 0 (degraded),
    1 (medium), 2 (clean).  Only the prompt context trains; the checkpoint holds only it.
    Validation reports tier accuracy and a confusion matrix per task.

    Options: ``network_g`` (``type: CLIPQualityPerceiver``), ``train.optim_g`` (AdamW 4e-5
    in the paper; any torch.optim name), ``train.scheduler``, ``path.pretrain_network_g``.
    """

    def __init__(self, opt: dict) -> None:
        check_types(opt)  # "did you mean" for a mistyped registered name, before anything is built
        super().__init__(opt)
        self.net_g = self.model_to_device(build_network(opt['network_g']))
        self.print_network(self.net_g)
        path = opt['path'].get('pretrain_network_g')
        if path is not None:
            self.load_network(self.net_g, path, opt['path'].get('strict_load_g', True),
                              opt['path'].get('param_key_g', 'params'))
        if self.is_train:
            self.net_g.train()
            train_opt = opt['train']
            params = [p for p in self.net_g.parameters() if p.requires_grad]
            optim = dict(train_opt['optim_g'])
            self.optimizer_g = build_optimizer(optim.pop('type'), params, **optim)
            self.optimizers.append(self.optimizer_g)
            self.setup_schedulers()

    def model_to_device(self, net: torch.nn.Module) -> torch.nn.Module:
        return model_to_device(self, net)

    def load_network(self, net: torch.nn.Module, load_path: str, strict: bool = True,
                     param_key: str | None = 'params') -> None:
        """``path.pretrain_network_g``: a prompt file of this project or of the authors'
        release (or its name, ``perceive_ir_prompts``), read by the perceiver's one reader."""
        self.get_bare_model(net).load_prompts(str(load_path), 'path.pretrain_network_g')
        get_root_logger().info(f'Loaded the quality prompts from {load_path}')

    save_training_state = checkpoints.save_training_state  # atomic, BasicSR's contents

    def feed_data(self, data: dict) -> None:
        b = data['lq'].shape[0]
        self.images = torch.cat([data['lq'], data['medium'], data['gt']]).to(self.device)
        self.labels = torch.arange(3, device=self.device).repeat_interleave(b)
        self.task_id = data['task_id'].to(self.device).repeat(3) if 'task_id' in data else None

    def optimize_parameters(self, current_iter: int) -> None:
        self.optimizer_g.zero_grad(set_to_none=True)
        logits = self.net_g(self.images, return_logits=True).float()
        loss = F.cross_entropy(logits, self.labels)
        loss.backward()
        self.optimizer_g.step()
        acc = (logits.argmax(1) == self.labels).float().mean()
        self.log_dict = self.reduce_loss_dict(OrderedDict(l_ce=loss, acc=acc.detach()))

    def dist_validation(self, dataloader, current_iter, tb_logger, save_img) -> None:
        if self.opt['rank'] == 0:
            self.nondist_validation(dataloader, current_iter, tb_logger, save_img)

    @torch.no_grad()
    def nondist_validation(self, dataloader, current_iter, tb_logger, save_img) -> None:
        """Tier accuracy over the set and a 3x3 confusion matrix per task (rows: truth)."""
        net = self.get_bare_model(self.net_g)
        was_training = net.training
        net.eval()
        confusion = {t: torch.zeros(3, 3, dtype=torch.long) for t in TASKS}
        for data in dataloader:
            self.feed_data(data)
            pred = net(self.images, return_logits=True).argmax(1).cpu()
            for truth, guess, task in zip(self.labels.cpu(), pred, self.task_id.cpu()):
                confusion[TASKS[task]][truth, guess] += 1
        net.train(was_training)
        total = sum(confusion.values())
        self.metric_results = {'accuracy': float(total.diag().sum()) / max(int(total.sum()), 1)}
        name = dataloader.dataset.opt.get('name', 'val')
        lines = [f'Validation {name}: tier accuracy {self.metric_results["accuracy"]:.4f}',
                 '  confusion (rows: true tier, columns: predicted; ' + ', '.join(QUALITY_TIERS) + ')']
        for task, m in confusion.items():
            if int(m.sum()):
                lines.append(f'  {task:9s} ' + ' | '.join(' '.join(f'{int(v):4d}' for v in row) for row in m))
        get_root_logger().info('\n'.join(lines))
        self.confusion = confusion
        if tb_logger:
            tb_logger.add_scalar(f'metrics/{name}/accuracy', self.metric_results['accuracy'], current_iter)

    @master_only
    def save_network(self, net, net_label: str, current_iter: int, param_key: str = 'params') -> None:
        """BasicSR's file (``{params: state}``) with the perceiver's record beside it (CLIP
        model, context length, tiers), which ``load_prompts`` checks; written atomically."""
        name = f"{net_label}_{'latest' if current_iter == -1 else current_iter}.pth"
        atomic_torch_save({param_key: checkpoints.bare_state(self, net),
                           'perceiver': self.get_bare_model(net).prompt_record()},
                          os.path.join(self.opt['path']['models'], name))

    def save(self, epoch: int, current_iter: int) -> None:
        self.save_network(self.net_g, 'net_g', current_iter)
        self.save_training_state(epoch, current_iter)

"""DDP through the plugin's runner on CPU: torchrun, gloo, two processes."""
from __future__ import annotations

import os

import torch

from tests.conftest import SAMPLES, TINY, run_python, write_yaml

# Runs the plugin's entry point and then saves this rank's weights, so the test can
# compare the ranks (BasicSR itself saves from rank 0 only).
RANK_SCRIPT = '''
import sys
import torch, torch.distributed as dist
import basicsr.train as runner
import perceive_ir_arch.train as plugin

built = {}
build_model = runner.build_model
def capture(opt):
    built['model'] = build_model(opt)
    return built['model']
runner.build_model = capture
plugin.main()
model = built['model']
net = model.get_bare_model(model.net_g)
torch.save({k: v.cpu() for k, v in net.state_dict().items()}, f'rank{dist.get_rank()}.pth')
print('world', dist.get_world_size(), 'backend', dist.get_backend())
'''


def test_two_cpu_processes_train_in_lockstep(tmp_path):
    root = str(tmp_path)
    opt = {
        'name': 'ddp', 'model_type': 'PerceiveIRModel', 'scale': 1, 'num_gpu': 'auto', 'manual_seed': 0,
        'datasets': {'train': {
            'name': 'samples', 'type': 'MixedDegradationDataset',
            'sources': [{'task': t, 'layout': 'synthetic', 'dataroot': os.path.join(SAMPLES, 'train')}
                        for t in ('denoise', 'dehaze', 'lowlight')],
            'gt_size': 32, 'positive_crop': True, 'io_backend': {'type': 'disk'}, 'use_shuffle': True,
            'num_worker_per_gpu': 0, 'batch_size_per_gpu': 2, 'dataset_enlarge_ratio': 1,
            'prefetch_mode': None}},
        'network_g': dict(TINY, type='PerceiveIR'),
        'path': {'pretrain_network_g': None, 'strict_load_g': True, 'resume_state': None},
        'train': {'ema_decay': 0,
                  'optim_g': {'type': 'AdamW', 'lr': 1e-3, 'weight_decay': 1e-4},
                  'scheduler': {'type': 'CosineAnnealingRestartLR', 'periods': [4], 'eta_min': 1e-6},
                  'total_iter': 4, 'warmup_iter': -1,
                  'pixel_opt': {'type': 'L1Loss', 'loss_weight': 1.0},
                  'contrastive_opt': {'type': 'DegradationContrastiveLoss', 'loss_weight': 0.1}},
        'logger': {'print_freq': 1, 'save_checkpoint_freq': 100, 'use_tb_logger': False,
                   'wandb': {'project': None, 'resume_id': None}},
    }
    path = write_yaml(os.path.join(root, 'ddp.yml'), opt)
    script = os.path.join(root, 'rank_weights.py')
    with open(script, 'w') as f:
        f.write(RANK_SCRIPT)
    out = run_python(['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', script,
                      '-opt', path, '--launcher', 'pytorch'], cwd=root, env={'OMP_NUM_THREADS': '1'})
    assert out.stdout.count('world 2 backend gloo') == 2, out.stdout[-2000:]
    a = torch.load(os.path.join(root, 'rank0.pth'), weights_only=True)
    b = torch.load(os.path.join(root, 'rank1.pth'), weights_only=True)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), 'the ranks drifted apart'
    log = open(next(p for p in (tmp_path / 'experiments' / 'ddp').glob('train_*.log'))).read()
    assert 'World size (gpu number): 2' in log and 'l_cl' in log
